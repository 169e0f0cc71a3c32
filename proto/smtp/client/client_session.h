// ClientSession: the client's side of one outbound SMTP connection, as a pure state machine.
//
// The caller owns the socket, the clock and TLS. It passes the server's bytes to feed(),
// writes out whatever output() holds (and erases what it wrote), and acts on the events
// take_events() hands back. Nothing here blocks or touches the outside world.
//
// A connection goes: greeting (220) → EHLO (HELO when EHLO gets 5xx) → STARTTLS when the
// server offers it and the policy wants it (event kStartTls: the caller does the handshake,
// then tls_started(); EHLO is sent again) → AUTH PLAIN or LOGIN when credentials are given
// → kReady. Then any number of messages: send_message() → MAIL, RCPT per recipient, DATA or
// BDAT → kReady again; RSET goes before every MAIL but the first. quit() ends it.
// With PIPELINING (RFC 2920), RSET, MAIL, every RCPT and DATA go out in one write and the
// replies are matched in order; without it, one command at a time. The body goes out only
// if at least one recipient was accepted. It is sent with DATA (dot-stuffed) unless the
// message asks for BDAT and the server offers CHUNKING (or the body is BINARYMIME).
//
// The body, in pieces: after kNeedBody, call body_write() for each piece while
// wants_body() holds and body_end() with the last one. The caller paces the pieces by how
// much of output() is still unsent, so a large body is never in memory at once. With BDAT
// and no PIPELINING, wants_body() goes false after each piece until the server's 250
// (another kNeedBody).
//
// Outcomes: each recipient of a message gets exactly one kRecipient event (its RCPT reply;
// the MAIL reply when MAIL was refused; a temporary failure when the connection ended
// first). Each message gets exactly one kMessage event after its kRecipient events, whose
// outcome applies to the recipients accepted at RCPT. Any 421, a malformed reply, or the
// connection lost gives kFailed, after a temporary outcome for everything unfinished.
// Every outcome carries a reply for a delivery report: the server's, or one made here
// (`local` set) when no server reply exists.
//
// Events are a record of what happened during one call: a later event of the same batch
// can overtake an earlier one (kReady, then kFailed for a reply that followed), so act on
// kReady and kNeedBody after checking ready() and wants_body().
//
// Timeouts are the caller's: state() says what the session waits for, timeout_ms() gives
// RFC 5321 §4.5.3.2's value for it, and timed_out() ends the session.
// Thread-safety: none; one session per connection, used from one thread.
// Untrusted input: yes — every byte the server sends (feed).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "proto/smtp/client/capabilities.h"
#include "proto/smtp/client/dot_stuffer.h"
#include "proto/smtp/client/reply_parser.h"
#include "proto/smtp/command.h"

namespace rm::smtp {

enum class TlsPolicy : uint8_t {
  kNone,           // never STARTTLS
  kOpportunistic,  // STARTTLS when offered; plaintext when not offered or refused
  kRequired,       // STARTTLS or no delivery (kFailed: kTlsNotOffered / kTlsRefused)
};

struct ClientCredentials {
  std::string user;
  std::string password;
};

struct ClientConfig {
  std::string helo_name = "localhost";  // EHLO/HELO argument; no spaces or control bytes
  TlsPolicy tls = TlsPolicy::kOpportunistic;
  bool tls_active = false;  // implicit TLS: encrypted from the first byte (no STARTTLS)
  // AUTH with these when set; the session fails (kAuthUnavailable) rather than going on
  // unauthenticated when the server offers neither PLAIN nor LOGIN.
  std::optional<ClientCredentials> credentials;
  bool auth_plaintext_allowed = false;  // AUTH also without TLS
  ReplyLimits limits;
};

struct OutboundRecipient {
  std::string address;            // without angle brackets
  uint8_t notify = kNotifyUnset;  // DSN NOTIFY= (sent when the server offers DSN)
  std::string orcpt;              // DSN ORCPT= "rfc822;addr", not yet xtext-encoded
};

// A message's envelope and how to send it; the body comes later through body_write().
struct OutboundMessage {
  std::string sender;  // without angle brackets; empty: the null sender <>
  std::vector<OutboundRecipient> recipients;
  std::optional<uint64_t> size_bytes;  // SIZE= when offered; above the server's SIZE: refused here
  Body body = Body::k7Bit;  // BODY=8BITMIME when offered (else sent as is); BINARYMIME needs
                            // BINARYMIME and CHUNKING, else refused here
  bool smtputf8 = false;    // SMTPUTF8; refused here when the server lacks it (RFC 6531 §3.4)
  Ret ret = Ret::kUnset;    // DSN RET= (sent when the server offers DSN)
  std::string envid;        // DSN ENVID=, not yet xtext-encoded
  bool use_bdat = false;    // BDAT instead of DATA when the server offers CHUNKING
};

enum class Outcome : uint8_t {
  kAccepted,   // 2xx: accepted (at RCPT: provisionally; the message's outcome decides)
  kTemporary,  // 4xx or the connection ended: try again later
  kPermanent,  // 5xx: bounce
};

enum class Failure : uint8_t {
  kNone,
  kGreeting,         // the greeting was not 220
  kHello,            // EHLO and HELO were refused
  kTlsNotOffered,    // TLS is required and the server does not offer STARTTLS
  kTlsRefused,       // TLS is required and STARTTLS was refused
  kTlsFailed,        // the caller's handshake failed (tls_failed())
  kAuthUnavailable,  // credentials given, but no PLAIN/LOGIN, or no TLS and plaintext not allowed
  kAuthFailed,       // the server refused the credentials
  kServiceClosing,   // a 421 reply
  kProtocol,         // a malformed or unexpected reply
  kPeerClosed,       // peer_closed() before QUIT
  kTimeout,          // timed_out()
};

enum class ClientEventType : uint8_t {
  kReady,      // idle: send_message() or quit() may be called
  kStartTls,   // do the TLS handshake now, then tls_started() (or tls_failed())
  kNeedBody,   // body_write()/body_end() may be called
  kRecipient,  // `recipient`'s result at RCPT: `outcome`, `reply`
  kMessage,    // the transaction is over: `outcome`, `reply` for the recipients accepted
  kFailed,     // the connection is unusable (`failure`): send output(), then close
  kClosed,     // QUIT is done: close
};

struct ClientEvent {
  ClientEventType type = ClientEventType::kReady;
  size_t recipient = 0;  // kRecipient: index into the message's recipients
  // kRecipient, kMessage; kFailed: kPermanent for a 5xx reply, else kTemporary.
  Outcome outcome = Outcome::kAccepted;
  Failure failure = Failure::kNone;  // kFailed
  ServerReply reply;                 // kRecipient, kMessage, kFailed
  bool local = false;                // `reply` was made here, not sent by the server
};

// What the session waits for, to choose a timeout.
enum class ClientState : uint8_t {
  kGreeting,      // the 220 (5 min)
  kHello,         // EHLO/HELO's reply (5 min)
  kStartTls,      // STARTTLS's reply (5 min)
  kTlsHandshake,  // the caller's handshake (5 min)
  kAuth,          // an AUTH step's reply (5 min)
  kReady,         // nothing: the caller's next message or QUIT
  kMail,          // RSET's or MAIL's reply (5 min)
  kRcpt,          // an RCPT reply (5 min)
  kDataInit,      // DATA's 354 (2 min)
  kDataBlock,     // the body is being sent / a BDAT chunk's reply (3 min)
  kDataEnd,       // the reply to the end of data or to BDAT LAST (10 min)
  kQuit,          // QUIT's reply (5 min)
  kClosed,        // nothing: the session is over
};

// RFC 5321 §4.5.3.2's timeout for `state` (commands without one there get 5 minutes);
// 0 where the session waits for the caller, not the server (kReady, kClosed).
uint32_t timeout_ms(ClientState state);
// "MAIL", "end of data", ...: for logs and delivery reports.
std::string_view client_state_name(ClientState state);

class ClientSession {
 public:
  // REQUIRES: config.helo_name is non-empty, without spaces or control bytes.
  explicit ClientSession(ClientConfig config);

  // The server's bytes (decrypted, once TLS is on). Between kStartTls and tls_started()
  // they are dropped: what comes in plaintext after the 220 is never trusted.
  void feed(std::string_view bytes);
  // Starts a transaction. Changes nothing and returns an error when the session is not
  // ready() (a kReady event can be followed in the same batch by kFailed) or when the
  // envelope cannot be sent (a control byte or angle bracket in an address, no recipients).
  Status send_message(const OutboundMessage& message);
  // REQUIRES: wants_body().
  void body_write(std::string_view piece);
  // The body is complete; `last` is its final piece (may be empty).
  // REQUIRES: wants_body().
  void body_end(std::string_view last = {});
  // The handshake after kStartTls is done: EHLO again (RFC 3207 §4.2).
  // REQUIRES: state() == kTlsHandshake.
  void tls_started();
  // The handshake failed: kFailed (kTlsFailed).
  void tls_failed();
  // REQUIRES: ready() or done() (then it does nothing).
  void quit();
  // The server closed the connection (or the socket failed): kFailed (kPeerClosed), or
  // kClosed after QUIT.
  void peer_closed();
  // The caller's timer for state() ran out: kFailed (kTimeout).
  void timed_out();

  // Bytes to send, oldest first; the caller erases what it has written.
  std::string& output() { return out_; }
  // The events since the last call, oldest first.
  std::vector<ClientEvent> take_events();

  ClientState state() const;
  bool ready() const { return phase_ == Phase::kReady; }
  bool wants_body() const;
  bool done() const { return phase_ == Phase::kDone; }
  const Capabilities& capabilities() const { return caps_; }
  bool tls_active() const { return tls_active_; }
  bool authenticated() const { return authenticated_; }

 private:
  // What each reply still owed by the server answers, in order.
  enum class Expect : uint8_t {
    kGreeting,
    kEhlo,
    kHelo,
    kStartTls,
    kAuthPlain,
    kAuthLogin,
    kAuthLoginUser,
    kAuthLoginPassword,
    kRset,
    kMail,
    kRcpt,
    kData,
    kDataEnd,
    kBdat,
    kBdatLast,
    kDiscard,
    kQuit,
  };
  struct Pending {
    Expect expect;
    size_t recipient = 0;  // kRcpt
  };
  enum class Phase : uint8_t {
    kConnect,
    kTlsHandshake,
    kReady,
    kEnvelope,
    kBody,
    kBodySent,
    kDraining,
    kQuit,
    kDone,
  };
  struct Transaction {
    Transaction() {}  // not "= default": std::optional needs it before the class is complete
    OutboundMessage message;
    std::vector<bool> reported;  // each recipient's kRecipient is out
    size_t accepted = 0;
    bool bdat = false;
    bool ended = false;         // kMessage is out; remaining replies are only drained
    bool bdat_waiting = false;  // without PIPELINING: a BDAT's reply is awaited
    ServerReply last_refusal;
    DotStuffer stuffer;
  };

  void on_reply(const ServerReply& reply);
  void dispatch(const Pending& pending, const ServerReply& reply);
  void on_greeting(const ServerReply& reply);
  void on_ehlo(const ServerReply& reply);
  void on_helo(const ServerReply& reply);
  void on_starttls(const ServerReply& reply);
  void on_auth(Expect expect, const ServerReply& reply);
  void on_rset(const ServerReply& reply);
  void on_mail(const ServerReply& reply);
  void on_rcpt(size_t recipient, const ServerReply& reply);
  void on_data(const ServerReply& reply);
  void on_bdat(const ServerReply& reply);
  void on_message_end(const ServerReply& reply);

  void send(std::string_view line, Expect expect, size_t recipient = 0);
  void send_ehlo();
  void after_hello();
  void start_auth();
  void become_ready();
  void send_envelope();
  void send_rcpt(size_t recipient);
  void after_rcpts();
  void start_body();
  void report_recipient(size_t recipient, Outcome outcome, const ServerReply& reply, bool local);
  void report_message(Outcome outcome, const ServerReply& reply, bool local);
  void end_transaction(Outcome outcome, const ServerReply& reply, bool local);
  std::optional<ServerReply> local_refusal(const OutboundMessage& message) const;
  void fail(Failure failure, const ServerReply& reply, bool local, bool send_quit);
  void fail_local(Failure failure, int code, std::string_view enhanced, std::string text,
                  bool send_quit);
  void event(ClientEventType type);

  const ClientConfig config_;
  ReplyParser parser_;
  Phase phase_ = Phase::kConnect;
  std::deque<Pending> pending_;
  Capabilities caps_;
  bool tls_active_ = false;
  bool authenticated_ = false;
  bool rset_needed_ = false;  // a transaction was started on this connection
  std::optional<Transaction> tx_;
  std::string out_;
  std::vector<ClientEvent> events_;
};

}  // namespace rm::smtp
