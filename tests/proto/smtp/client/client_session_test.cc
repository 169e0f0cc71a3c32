// Transcripts of the SMTP client session against scripted server replies. A Driver plays
// the caller: it sends its messages when the session is ready, supplies bodies in pieces,
// "does" the TLS handshake at once, and quits when it has nothing left to send. It records
// the conversation ("S: " server lines, "C: " client lines; a CR or LF that is not part of a
// CRLF shows as \r or \n) and the events, one line each.
#include "proto/smtp/client/client_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rm::smtp {
namespace {

struct Outgoing {
  OutboundMessage message;
  std::string body;
};

Outgoing message_to(std::vector<std::string> recipients,
                    std::string body = "Subject: hi\r\n\r\n.dot\r\n") {
  Outgoing m;
  m.message.sender = "alice@example.org";
  for (std::string& r : recipients) {
    m.message.recipients.push_back({std::move(r)});
  }
  m.body = std::move(body);
  return m;
}

ClientConfig plain_config() {
  ClientConfig config;
  config.helo_name = "client.example.org";
  config.tls = TlsPolicy::kNone;
  return config;
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kAccepted:
      return "accepted";
    case Outcome::kTemporary:
      return "temporary";
    case Outcome::kPermanent:
      return "permanent";
  }
  return "?";
}

const char* failure_name(Failure f) {
  switch (f) {
    case Failure::kNone:
      return "none";
    case Failure::kGreeting:
      return "greeting";
    case Failure::kHello:
      return "hello";
    case Failure::kTlsNotOffered:
      return "tls-not-offered";
    case Failure::kTlsRefused:
      return "tls-refused";
    case Failure::kTlsFailed:
      return "tls-failed";
    case Failure::kAuthUnavailable:
      return "auth-unavailable";
    case Failure::kAuthFailed:
      return "auth-failed";
    case Failure::kServiceClosing:
      return "service-closing";
    case Failure::kProtocol:
      return "protocol";
    case Failure::kPeerClosed:
      return "peer-closed";
    case Failure::kTimeout:
      return "timeout";
  }
  return "?";
}

std::string describe(const ClientEvent& e) {
  const std::string reply = e.reply.summary() + (e.local ? " (local)" : "");
  switch (e.type) {
    case ClientEventType::kReady:
      return "ready";
    case ClientEventType::kStartTls:
      return "starttls";
    case ClientEventType::kNeedBody:
      return "need-body";
    case ClientEventType::kRecipient:
      return "rcpt " + std::to_string(e.recipient) + " " + outcome_name(e.outcome) + " " + reply;
    case ClientEventType::kMessage:
      return std::string("message ") + outcome_name(e.outcome) + " " + reply;
    case ClientEventType::kFailed:
      return std::string("failed ") + failure_name(e.failure) + " " + outcome_name(e.outcome) +
             " " + reply;
    case ClientEventType::kClosed:
      return "closed";
  }
  return "?";
}

std::string escape(std::string_view line) {
  std::string out;
  for (const char c : line) {
    out += c == '\r' ? "\\r" : c == '\n' ? "\\n" : std::string(1, c);
  }
  return out;
}

class Driver {
 public:
  explicit Driver(ClientConfig config, std::vector<Outgoing> messages = {},
                  size_t body_piece = 1 << 20)
      : session_(std::move(config)), messages_(std::move(messages)), body_piece_(body_piece) {}

  // One write of the server, fed in pieces of `step` bytes (0: at once).
  void server(std::string_view bytes, size_t step = 0) {
    step = step == 0 ? bytes.size() : step;
    std::vector<std::string_view> pieces;
    for (size_t i = 0; i < bytes.size(); i += step) {
      pieces.push_back(bytes.substr(i, step));
    }
    server_pieces(bytes, pieces);
  }
  // One write of the server, fed as two pieces split at `cut`.
  void server_split(std::string_view bytes, size_t cut) {
    server_pieces(bytes, {bytes.substr(0, cut), bytes.substr(cut)});
  }
  void peer_closed() {
    session_.peer_closed();
    pump();
    flush();
  }
  void timed_out() {
    session_.timed_out();
    pump();
    flush();
  }

  ClientSession& session() { return session_; }
  const std::string& transcript() const { return transcript_; }
  const std::vector<std::string>& events() const { return events_; }
  const std::vector<ClientEvent>& raw_events() const { return raw_; }
  bool auto_quit = true;
  bool tls_handshake_ok = true;

 private:
  void pump() {
    for (std::vector<ClientEvent> batch = session_.take_events(); !batch.empty();
         batch = session_.take_events()) {
      for (const ClientEvent& e : batch) {
        events_.push_back(describe(e));
        raw_.push_back(e);
        act(e);
      }
    }
  }

  void act(const ClientEvent& e) {
    switch (e.type) {
      case ClientEventType::kReady:
        if (!session_.ready()) {
          EXPECT_FALSE(session_.send_message(message_to({"x@example.net"}).message).ok());
          session_.quit();  // does nothing once the session is over
        } else if (next_ < messages_.size()) {
          body_ = messages_[next_].body;
          ASSERT_TRUE(session_.send_message(messages_[next_++].message).ok());
        } else if (auto_quit) {
          session_.quit();
        }
        break;
      case ClientEventType::kStartTls:
        if (tls_handshake_ok) {
          session_.tls_started();
        } else {
          session_.tls_failed();
        }
        break;
      case ClientEventType::kNeedBody:
        while (session_.wants_body()) {
          if (body_.size() <= body_piece_) {
            session_.body_end(body_);
            body_.clear();
            break;
          }
          session_.body_write(body_.substr(0, body_piece_));
          body_.erase(0, body_piece_);
        }
        break;
      default:
        break;
    }
  }

  void server_pieces(std::string_view bytes, const std::vector<std::string_view>& pieces) {
    record("S: ", bytes);
    for (const std::string_view piece : pieces) {
      session_.feed(piece);
      pump();
    }
    flush();
  }

  void flush() {
    record("C: ", session_.output());
    session_.output().clear();
  }

  void record(std::string_view prefix, std::string_view bytes) {
    while (!bytes.empty()) {
      const size_t end = bytes.find("\r\n");
      transcript_ += prefix;
      transcript_ += escape(bytes.substr(0, end));
      transcript_ += end == std::string_view::npos ? "\\c\n" : "\n";
      bytes.remove_prefix(end == std::string_view::npos ? bytes.size() : end + 2);
    }
  }

  ClientSession session_;
  std::vector<Outgoing> messages_;
  size_t body_piece_;
  size_t next_ = 0;
  std::string body_;
  std::string transcript_;
  std::vector<std::string> events_;
  std::vector<ClientEvent> raw_;
};

using Events = std::vector<std::string>;

const char kEhloPlain[] =
    "250-mx.example.net\r\n250-SIZE 10000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n";
const char kEhloPipelining[] =
    "250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10000\r\n250-8BITMIME\r\n250-DSN\r\n"
    "250-ENHANCEDSTATUSCODES\r\n250 CHUNKING\r\n";

TEST(SmtpClientSessionTest, FullConversationOneCommandAtATime) {
  Outgoing m = message_to({"bob@example.net", "carol@example.net"});
  m.message.size_bytes = 30;
  m.message.body = Body::k8BitMime;
  Driver d(plain_config(), {m}, 5);
  EXPECT_EQ(d.session().state(), ClientState::kGreeting);
  d.server("220 mx.example.net ESMTP\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kHello);
  d.server(kEhloPlain);
  EXPECT_EQ(d.session().state(), ClientState::kMail);
  d.server("250 2.1.0 Ok\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kRcpt);
  d.server("250 2.1.5 Ok\r\n");
  d.server("250 2.1.5 Ok\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kDataInit);
  d.server("354 End data with <CR><LF>.<CR><LF>\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kDataEnd);
  d.server("250 2.0.0 Ok: queued as 4Q1\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kQuit);
  d.server("221 2.0.0 Bye\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kClosed);
  EXPECT_EQ(d.transcript(), R"(S: 220 mx.example.net ESMTP
C: EHLO client.example.org
S: 250-mx.example.net
S: 250-SIZE 10000
S: 250-8BITMIME
S: 250 ENHANCEDSTATUSCODES
C: MAIL FROM:<alice@example.org> SIZE=30 BODY=8BITMIME
S: 250 2.1.0 Ok
C: RCPT TO:<bob@example.net>
S: 250 2.1.5 Ok
C: RCPT TO:<carol@example.net>
S: 250 2.1.5 Ok
C: DATA
S: 354 End data with <CR><LF>.<CR><LF>
C: Subject: hi
C: 
C: ..dot
C: .
S: 250 2.0.0 Ok: queued as 4Q1
C: QUIT
S: 221 2.0.0 Bye
)");
  EXPECT_EQ(
      d.events(),
      (Events{"ready", "rcpt 0 accepted 250 2.1.5 Ok", "rcpt 1 accepted 250 2.1.5 Ok", "need-body",
              "message accepted 250 2.0.0 Ok: queued as 4Q1", "ready", "closed"}));
  EXPECT_FALSE(d.session().capabilities().pipelining);
  EXPECT_EQ(d.session().capabilities().size_bytes_max, 10000u);
}

// MAIL, every RCPT and DATA in one write; a 250/450/550 mix; DSN parameters when offered.
TEST(SmtpClientSessionTest, PipeliningWithMixedRecipientReplies) {
  Outgoing m = message_to({"bob@example.net", "busy@example.net", "nobody@example.net"});
  m.message.ret = Ret::kHdrs;
  m.message.envid = "id+1=x";
  m.message.recipients[0].notify = kNotifyFailure | kNotifyDelay;
  m.message.recipients[0].orcpt = "rfc822;bob@example.net";
  m.message.recipients[1].notify = kNotifyNever;
  m.message.recipients[2].orcpt = "nobody@example.net";
  Driver d(plain_config(), {m});
  d.server("220 mx.example.net ESMTP\r\n");
  d.server(kEhloPipelining);
  EXPECT_EQ(d.session().state(), ClientState::kMail);
  d.server(
      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n450 4.2.1 <busy@example.net>: try later\r\n"
      "550-5.1.1 <nobody@example.net>: no such user\r\n550 5.1.1 see https://example.net\r\n"
      "354 go ahead\r\n");
  d.server("250 2.0.0 Ok: queued as 4Q2\r\n");
  d.server("221 2.0.0 Bye\r\n");
  EXPECT_EQ(d.transcript(), R"(S: 220 mx.example.net ESMTP
C: EHLO client.example.org
S: 250-mx.example.net
S: 250-PIPELINING
S: 250-SIZE 10000
S: 250-8BITMIME
S: 250-DSN
S: 250-ENHANCEDSTATUSCODES
S: 250 CHUNKING
C: MAIL FROM:<alice@example.org> RET=HDRS ENVID=id+2B1+3Dx
C: RCPT TO:<bob@example.net> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob@example.net
C: RCPT TO:<busy@example.net> NOTIFY=NEVER
C: RCPT TO:<nobody@example.net> ORCPT=rfc822;nobody@example.net
C: DATA
S: 250 2.1.0 Ok
S: 250 2.1.5 Ok
S: 450 4.2.1 <busy@example.net>: try later
S: 550-5.1.1 <nobody@example.net>: no such user
S: 550 5.1.1 see https://example.net
S: 354 go ahead
C: Subject: hi
C: 
C: ..dot
C: .
S: 250 2.0.0 Ok: queued as 4Q2
C: QUIT
S: 221 2.0.0 Bye
)");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 accepted 250 2.1.5 Ok",
                                "rcpt 1 temporary 450 4.2.1 <busy@example.net>: try later",
                                "rcpt 2 permanent 550 5.1.1 <nobody@example.net>: no such user see "
                                "https://example.net",
                                "need-body", "message accepted 250 2.0.0 Ok: queued as 4Q2",
                                "ready", "closed"}));
  // The multi-line refusal is kept line by line for the bounce.
  EXPECT_EQ(d.raw_events()[3].reply.lines.size(), 2u);
  EXPECT_EQ(d.raw_events()[3].reply.enhanced, "5.1.1");
}

// The pipelined conversation, with every server write split at every byte: the same
// client bytes and the same events.
TEST(SmtpClientSessionTest, RepliesSplitAtEveryByteBoundary) {
  const std::vector<std::string> writes = {
      "220 mx.example.net ESMTP\r\n", kEhloPipelining,
      "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 unknown\r\n250 2.1.5 Ok\r\n354 go\r\n",
      "250-2.0.0 Ok\r\n250 2.0.0 queued as 4Q3\r\n", "221 2.0.0 Bye\r\n"};
  auto run = [&](size_t write_index, size_t cut) {
    Driver d(plain_config(), {message_to({"a@x.net", "b@x.net", "c@x.net"})}, 3);
    for (size_t i = 0; i < writes.size(); ++i) {
      if (i == write_index) {
        d.server_split(writes[i], cut);
      } else {
        d.server(writes[i]);
      }
    }
    return std::make_pair(d.transcript(), d.events());
  };
  Driver reference(plain_config(), {message_to({"a@x.net", "b@x.net", "c@x.net"})}, 3);
  for (const std::string& w : writes) {
    reference.server(w);
  }
  ASSERT_EQ(reference.events().back(), "closed");
  const std::vector<std::string> expected = reference.events();
  for (size_t i = 0; i < writes.size(); ++i) {
    for (size_t cut = 0; cut <= writes[i].size(); ++cut) {
      const auto [transcript, events] = run(i, cut);
      EXPECT_EQ(transcript, reference.transcript()) << "write " << i << " cut " << cut;
      EXPECT_EQ(events, expected) << "write " << i << " cut " << cut;
    }
  }
  Driver bytes(plain_config(), {message_to({"a@x.net", "b@x.net", "c@x.net"})}, 3);
  for (const std::string& w : writes) {
    bytes.server(w, 1);
  }
  EXPECT_EQ(bytes.transcript(), reference.transcript());
  EXPECT_EQ(bytes.events(), expected);
}

TEST(SmtpClientSessionTest, StartTlsThenAuthPlain) {
  ClientConfig config = plain_config();
  config.tls = TlsPolicy::kOpportunistic;
  config.credentials = ClientCredentials{"alice", "secret"};
  Driver d(config, {message_to({"bob@example.net"})});
  d.server("220 mx.example.net ESMTP\r\n");
  d.server("250-mx.example.net\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kStartTls);
  // A reply injected after the 220 (in plaintext, before the handshake) is never read.
  d.server("220 2.0.0 Ready to start TLS\r\n250 injected\r\n");
  EXPECT_TRUE(d.session().tls_active());
  d.server("250-mx.example.net\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kAuth);
  d.server("235 2.7.0 Authentication successful\r\n");
  EXPECT_TRUE(d.session().authenticated());
  d.server("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n");
  d.server("250 2.0.0 Ok: queued as 4Q4\r\n");
  d.server("221 Bye\r\n");
  EXPECT_EQ(d.transcript(), R"(S: 220 mx.example.net ESMTP
C: EHLO client.example.org
S: 250-mx.example.net
S: 250-STARTTLS
S: 250 AUTH PLAIN LOGIN
C: STARTTLS
S: 220 2.0.0 Ready to start TLS
S: 250 injected
C: EHLO client.example.org
S: 250-mx.example.net
S: 250-PIPELINING
S: 250 AUTH PLAIN LOGIN
C: AUTH PLAIN AGFsaWNlAHNlY3JldA==
S: 235 2.7.0 Authentication successful
C: MAIL FROM:<alice@example.org>
C: RCPT TO:<bob@example.net>
C: DATA
S: 250 2.1.0 Ok
S: 250 2.1.5 Ok
S: 354 go
C: Subject: hi
C: 
C: ..dot
C: .
S: 250 2.0.0 Ok: queued as 4Q4
C: QUIT
S: 221 Bye
)");
  EXPECT_EQ(d.events(),
            (Events{"starttls", "ready", "rcpt 0 accepted 250 2.1.5 Ok", "need-body",
                    "message accepted 250 2.0.0 Ok: queued as 4Q4", "ready", "closed"}));
}

TEST(SmtpClientSessionTest, AuthLoginWithPlaintextAllowed) {
  ClientConfig config = plain_config();
  config.credentials = ClientCredentials{"alice", "secret"};
  config.auth_plaintext_allowed = true;
  Driver d(config);
  d.auto_quit = false;
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250 AUTH LOGIN\r\n");
  d.server("334 VXNlcm5hbWU6\r\n");
  d.server("334 UGFzc3dvcmQ6\r\n");
  d.server("235 2.7.0 Authentication successful\r\n");
  EXPECT_EQ(d.transcript(), R"(S: 220 mx ESMTP
C: EHLO client.example.org
S: 250-mx
S: 250 AUTH LOGIN
C: AUTH LOGIN
S: 334 VXNlcm5hbWU6
C: YWxpY2U=
S: 334 UGFzc3dvcmQ6
C: c2VjcmV0
S: 235 2.7.0 Authentication successful
)");
  EXPECT_EQ(d.events(), Events{"ready"});
  EXPECT_TRUE(d.session().ready());
  EXPECT_TRUE(d.session().authenticated());
}

TEST(SmtpClientSessionTest, AuthRefused) {
  ClientConfig config = plain_config();
  config.credentials = ClientCredentials{"alice", "wrong"};
  config.auth_plaintext_allowed = true;
  Driver d(config);
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250 AUTH PLAIN\r\n");
  d.server("535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(d.events(),
            Events{"failed auth-failed permanent 535 5.7.8 Authentication credentials invalid"});
  EXPECT_TRUE(d.transcript().ends_with("C: QUIT\n"));
  EXPECT_TRUE(d.session().done());
}

TEST(SmtpClientSessionTest, AuthOnlyAfterTlsUnlessAllowed) {
  ClientConfig config = plain_config();
  config.credentials = ClientCredentials{"alice", "secret"};
  Driver d(config);
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250 AUTH PLAIN\r\n");
  EXPECT_EQ(d.events(), Events{"failed auth-unavailable temporary 454 4.7.0 authentication needs "
                               "TLS, which is not active (local)"});
  EXPECT_EQ(d.transcript().find("AUTH PLAIN "), std::string::npos);  // no password in clear
  config.auth_plaintext_allowed = true;
  Driver no_mechanism(config);
  no_mechanism.server("220 mx ESMTP\r\n");
  no_mechanism.server("250-mx\r\n250 AUTH CRAM-MD5\r\n");
  EXPECT_EQ(no_mechanism.raw_events().at(0).failure, Failure::kAuthUnavailable);
}

TEST(SmtpClientSessionTest, TlsRequiredButNotOffered) {
  ClientConfig config = plain_config();
  config.tls = TlsPolicy::kRequired;
  Driver d(config, {message_to({"bob@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250 PIPELINING\r\n");
  EXPECT_EQ(d.events(), Events{"failed tls-not-offered temporary 454 4.7.0 TLS is required but "
                               "the server does not offer STARTTLS (local)"});
  EXPECT_EQ(d.transcript(), R"(S: 220 mx ESMTP
C: EHLO client.example.org
S: 250-mx
S: 250 PIPELINING
C: QUIT
)");
}

TEST(SmtpClientSessionTest, TlsRefusedOrFailed) {
  ClientConfig config = plain_config();
  config.tls = TlsPolicy::kRequired;
  Driver refused(config);
  refused.server("220 mx ESMTP\r\n");
  refused.server("250-mx\r\n250 STARTTLS\r\n");
  refused.server("454 4.7.0 TLS not available due to temporary reason\r\n");
  EXPECT_EQ(refused.raw_events().at(0).failure, Failure::kTlsRefused);
  // Opportunistic: a refusal means plaintext.
  config.tls = TlsPolicy::kOpportunistic;
  Driver plaintext(config);
  plaintext.auto_quit = false;
  plaintext.server("220 mx ESMTP\r\n");
  plaintext.server("250-mx\r\n250 STARTTLS\r\n");
  plaintext.server("454 4.7.0 TLS not available due to temporary reason\r\n");
  EXPECT_EQ(plaintext.events(), Events{"ready"});
  EXPECT_FALSE(plaintext.session().tls_active());
  Driver handshake(config);
  handshake.tls_handshake_ok = false;
  handshake.server("220 mx ESMTP\r\n");
  handshake.server("250-mx\r\n250 STARTTLS\r\n");
  EXPECT_EQ(handshake.session().state(), ClientState::kStartTls);
  handshake.server("220 go ahead\r\n");
  EXPECT_EQ(
      handshake.events(),
      (Events{"starttls", "failed tls-failed temporary 454 4.7.0 TLS handshake failed (local)"}));
}

TEST(SmtpClientSessionTest, HeloWhenEhloIsRefused) {
  Outgoing m = message_to({"bob@example.net"});
  m.message.size_bytes = 10;
  m.message.body = Body::k8BitMime;
  Driver d(plain_config(), {m});
  d.server("220 old.example.net SMTP\r\n");
  d.server("502 5.5.2 Error: command not recognized\r\n");
  d.server("250 old.example.net\r\n");
  EXPECT_EQ(d.transcript(), R"(S: 220 old.example.net SMTP
C: EHLO client.example.org
S: 502 5.5.2 Error: command not recognized
C: HELO client.example.org
S: 250 old.example.net
C: MAIL FROM:<alice@example.org>
)");
}

TEST(SmtpClientSessionTest, GreetingRefusedOrHelloRefused) {
  Driver d(plain_config());
  d.server("554 5.7.1 mx.example.net no SMTP service here\r\n");
  EXPECT_EQ(d.events(),
            Events{"failed greeting permanent 554 5.7.1 mx.example.net no SMTP service here"});
  EXPECT_EQ(d.transcript(), "S: 554 5.7.1 mx.example.net no SMTP service here\nC: QUIT\n");
  Driver hello(plain_config());
  hello.server("220 mx ESMTP\r\n");
  hello.server("550 no\r\n");
  hello.server("550 still no\r\n");
  EXPECT_EQ(hello.events(), Events{"failed hello permanent 550 still no"});
}

TEST(SmtpClientSessionTest, AllRecipientsRefusedOneAtATime) {
  Driver d(plain_config(), {message_to({"x@example.net", "y@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 2.1.0 Ok\r\n");
  d.server("550 5.1.1 unknown\r\n");
  d.server("452 4.5.3 too many recipients\r\n");
  d.server("221 Bye\r\n");
  EXPECT_EQ(d.events(),
            (Events{"ready", "rcpt 0 permanent 550 5.1.1 unknown",
                    "rcpt 1 temporary 452 4.5.3 too many recipients",
                    "message temporary 452 4.5.3 too many recipients", "ready", "closed"}));
  EXPECT_EQ(d.transcript().find("DATA"), std::string::npos);
}

// RFC 2920 §3.1: with no valid recipient, the pipelined DATA gets 503/554 and no body goes.
TEST(SmtpClientSessionTest, AllRecipientsRefusedPipelined) {
  Driver d(plain_config(), {message_to({"x@example.net", "y@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPipelining);
  d.server("250 2.1.0 Ok\r\n550 5.1.1 unknown\r\n550 5.1.1 unknown too\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kDataInit);  // the DATA reply is still owed
  EXPECT_FALSE(d.session().ready());
  d.server("554 5.5.1 Error: no valid recipients\r\n");
  d.server("221 Bye\r\n");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 permanent 550 5.1.1 unknown",
                                "rcpt 1 permanent 550 5.1.1 unknown too",
                                "message permanent 550 5.1.1 unknown too", "ready", "closed"}));
  EXPECT_TRUE(
      d.transcript().ends_with("S: 554 5.5.1 Error: no valid recipients\nC: QUIT\nS: 221 Bye\n"));
}

// A server that says 354 anyway gets an empty body at once, never the next commands.
TEST(SmtpClientSessionTest, AllRecipientsRefusedButDataAccepted) {
  Driver d(plain_config(), {message_to({"x@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPipelining);
  d.server("250 2.1.0 Ok\r\n550 5.1.1 unknown\r\n354 go\r\n");
  EXPECT_TRUE(d.transcript().ends_with("S: 354 go\nC: .\n"));
  EXPECT_FALSE(d.session().ready());
  d.server("554 5.5.1 no valid recipients\r\n");
  EXPECT_TRUE(d.transcript().ends_with("C: QUIT\n"));
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 permanent 550 5.1.1 unknown",
                                "message permanent 550 5.1.1 unknown", "ready"}));
}

TEST(SmtpClientSessionTest, MailRefused) {
  Driver d(plain_config(), {message_to({"x@example.net", "y@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPipelining);
  d.server(
      "553 5.7.1 sender rejected\r\n503 5.5.1 need MAIL\r\n503 5.5.1 need MAIL\r\n"
      "503 5.5.1 need RCPT\r\n");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 permanent 553 5.7.1 sender rejected",
                                "rcpt 1 permanent 553 5.7.1 sender rejected",
                                "message permanent 553 5.7.1 sender rejected", "ready"}));
}

TEST(SmtpClientSessionTest, DataRefusedAfterTheBody) {
  Driver d(plain_config(), {message_to({"bob@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPipelining);
  d.server("250 Ok\r\n250 Ok\r\n354 go\r\n");
  d.server("554 5.7.1 message content rejected\r\n");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 accepted 250 Ok", "need-body",
                                "message permanent 554 5.7.1 message content rejected", "ready"}));
  Driver later(plain_config(), {message_to({"bob@example.net"})});
  later.server("220 mx ESMTP\r\n");
  later.server(kEhloPipelining);
  later.server("250 Ok\r\n250 Ok\r\n354 go\r\n");
  later.server("451 4.3.0 try again\r\n");
  EXPECT_EQ(later.events().at(3), "message temporary 451 4.3.0 try again");
}

TEST(SmtpClientSessionTest, DataCommandRefused) {
  Driver d(plain_config(), {message_to({"bob@example.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  d.server("452 4.3.1 insufficient system storage\r\n");
  EXPECT_EQ(d.events(),
            (Events{"ready", "rcpt 0 accepted 250 Ok",
                    "message temporary 452 4.3.1 insufficient system storage", "ready"}));
}

TEST(SmtpClientSessionTest, ServiceClosingMidSession) {
  Driver d(plain_config(), {message_to({"a@x.net", "b@x.net", "c@x.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  d.server("421 4.3.2 Service shutting down\r\n");
  EXPECT_EQ(
      d.events(),
      (Events{"ready", "rcpt 0 accepted 250 Ok", "rcpt 1 temporary 421 4.3.2 Service shutting down",
              "rcpt 2 temporary 421 4.3.2 Service shutting down",
              "message temporary 421 4.3.2 Service shutting down",
              "failed service-closing temporary 421 4.3.2 Service shutting down"}));
  EXPECT_TRUE(d.transcript().ends_with("S: 421 4.3.2 Service shutting down\n"));  // no QUIT
  EXPECT_EQ(d.session().state(), ClientState::kClosed);
  d.server("250 late\r\n");  // ignored after the end
  EXPECT_EQ(d.events().size(), 6u);
}

TEST(SmtpClientSessionTest, ServiceClosingWhileIdleOrGreeting) {
  Driver idle(plain_config());
  idle.auto_quit = false;
  idle.server("220 mx ESMTP\r\n");
  idle.server(kEhloPlain);
  idle.server("421 4.4.2 idle timeout\r\n");
  EXPECT_EQ(idle.events(),
            (Events{"ready", "failed service-closing temporary 421 4.4.2 idle timeout"}));
  Driver greeting(plain_config());
  greeting.server("421 4.3.2 busy\r\n");
  EXPECT_EQ(greeting.raw_events().at(0).failure, Failure::kServiceClosing);
  EXPECT_EQ(greeting.transcript(), "S: 421 4.3.2 busy\n");
}

TEST(SmtpClientSessionTest, PeerClosedMidBody) {
  Driver d(plain_config(), {message_to({"a@x.net", "b@x.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPipelining);
  d.server("250 Ok\r\n250 Ok\r\n550 no\r\n354 go\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kDataEnd);
  d.peer_closed();
  EXPECT_EQ(d.events(),
            (Events{"ready", "rcpt 0 accepted 250 Ok", "rcpt 1 permanent 550 no", "need-body",
                    "message temporary 421 4.4.2 connection closed by the server during end of "
                    "data (local)",
                    "failed peer-closed temporary 421 4.4.2 connection closed by the server "
                    "during end of data (local)"}));
}

TEST(SmtpClientSessionTest, PeerClosedAfterQuitIsClean) {
  Driver d(plain_config());
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  EXPECT_EQ(d.session().state(), ClientState::kQuit);
  d.peer_closed();
  EXPECT_EQ(d.events(), (Events{"ready", "closed"}));
}

TEST(SmtpClientSessionTest, TimeoutReportsTheState) {
  Driver d(plain_config(), {message_to({"a@x.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 Ok\r\n");
  EXPECT_EQ(timeout_ms(d.session().state()), 5u * 60 * 1000);
  d.timed_out();
  EXPECT_EQ(d.events().back(),
            "failed timeout temporary 421 4.4.2 timed out waiting for the server during RCPT "
            "(local)");
}

TEST(SmtpClientSessionTest, TwoTransactionsWithRset) {
  Driver d(plain_config(),
           {message_to({"a@x.net"}, "one\r\n"), message_to({"b@x.net"}, "two\r\n")});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  d.server("354 go\r\n");
  d.server("250 queued 1\r\n");
  d.server("250 reset\r\n");
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  d.server("354 go\r\n");
  d.server("250 queued 2\r\n");
  d.server("221 Bye\r\n");
  EXPECT_EQ(d.transcript(), R"(S: 220 mx ESMTP
C: EHLO client.example.org
S: 250-mx.example.net
S: 250-SIZE 10000
S: 250-8BITMIME
S: 250 ENHANCEDSTATUSCODES
C: MAIL FROM:<alice@example.org>
S: 250 Ok
C: RCPT TO:<a@x.net>
S: 250 Ok
C: DATA
S: 354 go
C: one
C: .
S: 250 queued 1
C: RSET
S: 250 reset
C: MAIL FROM:<alice@example.org>
S: 250 Ok
C: RCPT TO:<b@x.net>
S: 250 Ok
C: DATA
S: 354 go
C: two
C: .
S: 250 queued 2
C: QUIT
S: 221 Bye
)");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 accepted 250 Ok", "need-body",
                                "message accepted 250 queued 1", "ready", "rcpt 0 accepted 250 Ok",
                                "need-body", "message accepted 250 queued 2", "ready", "closed"}));
}

TEST(SmtpClientSessionTest, TwoTransactionsPipelinedAfterARefusal) {
  Driver d(plain_config(), {message_to({"a@x.net"}), message_to({"b@x.net"}, "two\r\n")});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPipelining);
  d.server("250 Ok\r\n550 no\r\n554 no valid recipients\r\n");
  d.server("250 reset\r\n250 Ok\r\n250 Ok\r\n354 go\r\n");
  d.server("250 queued\r\n");
  EXPECT_TRUE(d.transcript().ends_with(R"(S: 554 no valid recipients
C: RSET
C: MAIL FROM:<alice@example.org>
C: RCPT TO:<b@x.net>
C: DATA
S: 250 reset
S: 250 Ok
S: 250 Ok
S: 354 go
C: two
C: .
S: 250 queued
C: QUIT
)"));
  d.server("221 Bye\r\n");
  EXPECT_EQ(d.events().back(), "closed");
}

TEST(SmtpClientSessionTest, RsetRefusedEndsTheConnection) {
  Driver d(plain_config(), {message_to({"a@x.net"}, "one\r\n"), message_to({"b@x.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  d.server("354 go\r\n");
  d.server("250 queued 1\r\n");
  d.server("500 what\r\n");
  EXPECT_EQ(d.events().back(), "failed protocol permanent 500 what");
  EXPECT_EQ(d.events().at(d.events().size() - 3), "rcpt 0 temporary 500 what");
}

TEST(SmtpClientSessionTest, BdatPipelined) {
  Outgoing m = message_to({"bob@example.net"}, "0123456789abcdefghij");
  m.message.use_bdat = true;
  m.message.body = Body::kBinaryMime;
  Driver d(plain_config(), {m}, 8);
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250-PIPELINING\r\n250-BINARYMIME\r\n250 CHUNKING\r\n");
  d.server("250 Ok\r\n250 Ok\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kDataBlock);
  d.server("250 2.0.0 8 octets\r\n250 2.0.0 8 octets\r\n");
  EXPECT_EQ(d.session().state(), ClientState::kDataEnd);
  d.server("250 2.0.0 queued\r\n");
  EXPECT_EQ(d.transcript(), R"(S: 220 mx ESMTP
C: EHLO client.example.org
S: 250-mx
S: 250-PIPELINING
S: 250-BINARYMIME
S: 250 CHUNKING
C: MAIL FROM:<alice@example.org> BODY=BINARYMIME
C: RCPT TO:<bob@example.net>
S: 250 Ok
S: 250 Ok
C: BDAT 8
C: 01234567BDAT 8
C: 89abcdefBDAT 4 LAST
C: ghij\c
S: 250 2.0.0 8 octets
S: 250 2.0.0 8 octets
S: 250 2.0.0 queued
C: QUIT
)");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 accepted 250 Ok", "need-body",
                                "message accepted 250 2.0.0 queued", "ready"}));
}

// Without PIPELINING each BDAT waits for its reply (RFC 3030 §4.2).
TEST(SmtpClientSessionTest, BdatOneChunkAtATime) {
  Outgoing m = message_to({"bob@example.net"}, "0123456789");
  m.message.use_bdat = true;
  Driver d(plain_config(), {m}, 4);
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250 CHUNKING\r\n");
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  EXPECT_FALSE(d.session().wants_body());
  d.server("250 4 octets\r\n");
  d.server("250 4 octets\r\n");
  d.server("250 queued\r\n");
  EXPECT_TRUE(d.transcript().find(R"(S: 250 Ok
C: BDAT 4
C: 0123\c
S: 250 4 octets
C: BDAT 4
C: 4567\c
S: 250 4 octets
C: BDAT 2 LAST
C: 89\c
S: 250 queued
C: QUIT
)") != std::string::npos)
      << d.transcript();
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 accepted 250 Ok", "need-body", "need-body",
                                "need-body", "message accepted 250 queued", "ready"}));
}

TEST(SmtpClientSessionTest, BdatChunkRefused) {
  Outgoing m = message_to({"bob@example.net"}, "0123456789");
  m.message.use_bdat = true;
  Driver d(plain_config(), {m}, 4);
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250-PIPELINING\r\n250 CHUNKING\r\n");
  d.server("250 Ok\r\n250 Ok\r\n");
  d.server("552 5.3.4 too big\r\n554 5.5.0 no\r\n");
  EXPECT_FALSE(d.session().ready());  // the last chunk's reply is still owed
  d.server("554 5.5.0 no\r\n");
  EXPECT_EQ(d.events(), (Events{"ready", "rcpt 0 accepted 250 Ok", "need-body",
                                "message permanent 552 5.3.4 too big", "ready"}));
}

TEST(SmtpClientSessionTest, BdatOnlyWhenOffered) {
  Outgoing m = message_to({"bob@example.net"}, "x\r\n");
  m.message.use_bdat = true;
  Driver d(plain_config(), {m});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  d.server("250 Ok\r\n");
  d.server("250 Ok\r\n");
  EXPECT_TRUE(d.transcript().ends_with("C: DATA\n"));
}

TEST(SmtpClientSessionTest, RefusedBeforeSendingWhatTheServerCannotTake) {
  Outgoing big = message_to({"a@x.net", "b@x.net"});
  big.message.size_bytes = 10001;
  Outgoing utf8 = message_to({"a@x.net"});
  utf8.message.smtputf8 = true;
  Outgoing binary = message_to({"a@x.net"});
  binary.message.body = Body::kBinaryMime;
  Driver d(plain_config(), {big, utf8, binary});
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  EXPECT_EQ(d.events(),
            (Events{"ready",
                    "rcpt 0 permanent 552 5.3.4 message size 10001 exceeds the server's limit of "
                    "10000 (local)",
                    "rcpt 1 permanent 552 5.3.4 message size 10001 exceeds the server's limit of "
                    "10000 (local)",
                    "message permanent 552 5.3.4 message size 10001 exceeds the server's limit "
                    "of 10000 (local)",
                    "ready",
                    "rcpt 0 permanent 553 5.6.7 the message needs SMTPUTF8, which the server "
                    "does not offer (local)",
                    "message permanent 553 5.6.7 the message needs SMTPUTF8, which the server "
                    "does not offer (local)",
                    "ready",
                    "rcpt 0 permanent 554 5.6.3 the message needs BINARYMIME and CHUNKING, "
                    "which the server does not offer (local)",
                    "message permanent 554 5.6.3 the message needs BINARYMIME and CHUNKING, "
                    "which the server does not offer (local)",
                    "ready"}));
  EXPECT_TRUE(d.transcript().ends_with("S: 250 ENHANCEDSTATUSCODES\nC: QUIT\n"));  // no RSET
}

TEST(SmtpClientSessionTest, SmtputfEightWhenOffered) {
  Outgoing m = message_to({"jürgen@example.net"});
  m.message.smtputf8 = true;
  m.message.size_bytes = 5;
  Driver d(plain_config(), {m});
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250-SMTPUTF8\r\n250 SIZE\r\n");
  EXPECT_TRUE(d.transcript().ends_with("C: MAIL FROM:<alice@example.org> SIZE=5 SMTPUTF8\n"));
}

TEST(SmtpClientSessionTest, EnvelopesThatCannotBeSentAreErrors) {
  Driver d(plain_config());
  d.auto_quit = false;
  d.server("220 mx ESMTP\r\n");
  d.server(kEhloPlain);
  ASSERT_TRUE(d.session().ready());
  OutboundMessage m;
  EXPECT_FALSE(d.session().send_message(m).ok());  // no recipient
  m.recipients.push_back({"bob@example.net\r\nRSET"});
  EXPECT_FALSE(d.session().send_message(m).ok());
  m.recipients[0].address = "bob@example.net> NOTIFY=NEVER";
  EXPECT_FALSE(d.session().send_message(m).ok());
  m.recipients[0].address = "bob@example.net";
  m.sender = std::string("a\0b", 3);
  EXPECT_FALSE(d.session().send_message(m).ok());
  EXPECT_TRUE(d.session().ready());
  EXPECT_TRUE(d.session().output().empty());
}

TEST(SmtpClientSessionTest, MalformedOrUnaskedReplies) {
  Driver d(plain_config(), {message_to({"a@x.net"})});
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n251 mixed codes\r\n");
  EXPECT_EQ(d.raw_events().at(0).failure, Failure::kProtocol);
  EXPECT_TRUE(d.raw_events().at(0).local);
  EXPECT_EQ(d.raw_events().at(0).outcome, Outcome::kTemporary);
  Driver garbage(plain_config());
  garbage.server("HTTP/1.1 400 Bad Request\r\n");
  EXPECT_EQ(garbage.raw_events().at(0).failure, Failure::kProtocol);
  Driver unasked(plain_config());
  unasked.server("220 mx ESMTP\r\n250-mx\r\n250 PIPELINING\r\n250 extra\r\n");
  EXPECT_EQ(unasked.events().back(), "failed protocol temporary 250 extra");
  // During the body no reply is owed.
  Driver body(plain_config(), {message_to({"a@x.net"})});
  body.session().feed("220 mx ESMTP\r\n");
  body.server(kEhloPipelining);
  body.server("250 Ok\r\n250 Ok\r\n354 go\r\n250 too early\r\n");
  EXPECT_EQ(body.events().back(), "failed protocol temporary 250 too early");
}

TEST(SmtpClientSessionTest, TimeoutsPerState) {
  EXPECT_EQ(timeout_ms(ClientState::kGreeting), 300000u);
  EXPECT_EQ(timeout_ms(ClientState::kMail), 300000u);
  EXPECT_EQ(timeout_ms(ClientState::kRcpt), 300000u);
  EXPECT_EQ(timeout_ms(ClientState::kDataInit), 120000u);
  EXPECT_EQ(timeout_ms(ClientState::kDataBlock), 180000u);
  EXPECT_EQ(timeout_ms(ClientState::kDataEnd), 600000u);
  EXPECT_EQ(timeout_ms(ClientState::kReady), 0u);
  EXPECT_EQ(client_state_name(ClientState::kDataInit), "DATA");
}

TEST(SmtpClientSessionTest, ImplicitTlsSkipsStartTls) {
  ClientConfig config = plain_config();
  config.tls = TlsPolicy::kRequired;
  config.tls_active = true;
  config.credentials = ClientCredentials{"u", "p"};
  Driver d(config);
  d.auto_quit = false;
  d.server("220 mx ESMTP\r\n");
  d.server("250-mx\r\n250-STARTTLS\r\n250 AUTH LOGIN PLAIN\r\n");
  EXPECT_TRUE(d.transcript().ends_with("C: AUTH PLAIN AHUAcA==\n"));
}

}  // namespace
}  // namespace rm::smtp
