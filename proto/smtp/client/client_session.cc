#include "proto/smtp/client/client_session.h"

#include <iterator>
#include <utility>

#include "core/base/assert.h"
#include "core/base/base64.h"

namespace rm::smtp {
namespace {

Outcome outcome_of(const ServerReply& reply) {
  if (reply.positive()) {
    return Outcome::kAccepted;
  }
  return reply.transient() ? Outcome::kTemporary : Outcome::kPermanent;
}

ServerReply make_reply(int code, std::string_view enhanced, std::string text) {
  ServerReply reply;
  reply.code = code;
  reply.enhanced = enhanced;
  reply.lines.push_back(std::move(text));
  return reply;
}

// An address goes between angle brackets on a command line: a control byte could end the
// line early (command injection), an angle bracket could add parameters.
bool safe_address(std::string_view address) {
  for (const char ch : address) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>') {
      return false;
    }
  }
  return true;
}

// RFC 3461 §4: xtext, "+XX" for '+', '=' and every byte outside '!'..'~'.
std::string xtext(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 33 || c > 126 || c == '+' || c == '=') {
      out += '+';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string notify_value(uint8_t notify) {
  if (notify & kNotifyNever) {
    return "NEVER";
  }
  std::string out;
  const std::pair<uint8_t, const char*> names[] = {
      {kNotifySuccess, "SUCCESS"}, {kNotifyFailure, "FAILURE"}, {kNotifyDelay, "DELAY"}};
  for (const auto& [bit, name] : names) {
    if (notify & bit) {
      out += out.empty() ? "" : ",";
      out += name;
    }
  }
  return out;
}

// ORCPT is "addr-type;xtext"; an address without its type is taken as rfc822.
std::string orcpt_value(std::string_view orcpt) {
  if (orcpt.find(';') == std::string_view::npos) {
    return "rfc822;" + xtext(orcpt);
  }
  return xtext(orcpt);
}

// Per ClientState, in its order: a name, and RFC 5321 §4.5.3.2's timeout.
struct StateInfo {
  std::string_view name;
  uint32_t timeout_ms;
};
constexpr uint32_t kMinuteMs = 60 * 1000;
constexpr StateInfo kStates[] = {
    {"greeting", 5 * kMinuteMs},
    {"EHLO", 5 * kMinuteMs},
    {"STARTTLS", 5 * kMinuteMs},
    {"TLS handshake", 5 * kMinuteMs},
    {"AUTH", 5 * kMinuteMs},
    {"idle", 0},
    {"MAIL", 5 * kMinuteMs},
    {"RCPT", 5 * kMinuteMs},
    {"DATA", 2 * kMinuteMs},
    {"message body", 3 * kMinuteMs},
    {"end of data", 10 * kMinuteMs},
    {"QUIT", 5 * kMinuteMs},
    {"closed", 0},
};
static_assert(std::size(kStates) == static_cast<size_t>(ClientState::kClosed) + 1);

}  // namespace

uint32_t timeout_ms(ClientState state) {
  return kStates[static_cast<size_t>(state)].timeout_ms;
}

std::string_view client_state_name(ClientState state) {
  return kStates[static_cast<size_t>(state)].name;
}

ClientSession::ClientSession(ClientConfig config)
    : config_(std::move(config)), parser_(config_.limits), tls_active_(config_.tls_active) {
  RM_ASSERT(!config_.helo_name.empty());
  for (const char c : config_.helo_name) {
    RM_ASSERT_MSG(static_cast<unsigned char>(c) > 0x20 && c != 0x7f, "helo_name");
  }
  pending_.push_back({Expect::kGreeting});
}

std::vector<ClientEvent> ClientSession::take_events() {
  std::vector<ClientEvent> events;
  events.swap(events_);
  return events;
}

void ClientSession::event(ClientEventType type) {
  ClientEvent e;
  e.type = type;
  events_.push_back(std::move(e));
}

void ClientSession::send(std::string_view line, Expect expect, size_t recipient) {
  out_.append(line);
  out_ += "\r\n";
  pending_.push_back({expect, recipient});
}

// ---- Replies -------------------------------------------------------------------------

void ClientSession::feed(std::string_view bytes) {
  // After the 220 to STARTTLS nothing sent in plaintext is trusted (RFC 3207 §4.2).
  if (phase_ == Phase::kDone || phase_ == Phase::kTlsHandshake) {
    return;
  }
  std::vector<ServerReply> replies;
  const Status status = parser_.feed(bytes, replies);
  for (const ServerReply& reply : replies) {
    on_reply(reply);
    if (phase_ == Phase::kDone || phase_ == Phase::kTlsHandshake) {
      return;
    }
  }
  if (!status.ok()) {
    fail_local(Failure::kProtocol, 451, "4.5.0", std::string(status.message()), false);
  }
}

void ClientSession::on_reply(const ServerReply& reply) {
  if (pending_.empty()) {
    // Unasked: only the announcement of a shutdown may come so (RFC 5321 §3.8).
    fail(reply.code == 421 ? Failure::kServiceClosing : Failure::kProtocol, reply, false, false);
    return;
  }
  const Pending pending = pending_.front();
  pending_.pop_front();
  if (reply.code == 421 && pending.expect != Expect::kQuit) {
    fail(Failure::kServiceClosing, reply, false, false);
    return;
  }
  dispatch(pending, reply);
  if (phase_ == Phase::kDraining && pending_.empty()) {
    become_ready();
  }
}

void ClientSession::dispatch(const Pending& pending, const ServerReply& reply) {
  switch (pending.expect) {
    case Expect::kGreeting:
      on_greeting(reply);
      break;
    case Expect::kEhlo:
      on_ehlo(reply);
      break;
    case Expect::kHelo:
      on_helo(reply);
      break;
    case Expect::kStartTls:
      on_starttls(reply);
      break;
    case Expect::kAuthPlain:
    case Expect::kAuthLogin:
    case Expect::kAuthLoginUser:
    case Expect::kAuthLoginPassword:
      on_auth(pending.expect, reply);
      break;
    case Expect::kRset:
      on_rset(reply);
      break;
    case Expect::kMail:
      on_mail(reply);
      break;
    case Expect::kRcpt:
      on_rcpt(pending.recipient, reply);
      break;
    case Expect::kData:
      on_data(reply);
      break;
    case Expect::kBdat:
      on_bdat(reply);
      break;
    case Expect::kDataEnd:
    case Expect::kBdatLast:
      on_message_end(reply);
      break;
    case Expect::kDiscard:
      break;
    case Expect::kQuit:
      phase_ = Phase::kDone;
      pending_.clear();
      event(ClientEventType::kClosed);
      break;
  }
}

// ---- Connection set-up ---------------------------------------------------------------

void ClientSession::on_greeting(const ServerReply& reply) {
  if (reply.code != 220) {
    fail(Failure::kGreeting, reply, false, true);  // RFC 5321 §3.1: QUIT, then close
    return;
  }
  send_ehlo();
}

void ClientSession::send_ehlo() {
  send("EHLO " + config_.helo_name, Expect::kEhlo);
}

void ClientSession::on_ehlo(const ServerReply& reply) {
  if (reply.positive()) {
    caps_ = parse_ehlo(reply);
    after_hello();
  } else if (reply.permanent()) {
    send("HELO " + config_.helo_name, Expect::kHelo);  // RFC 5321 §3.2
  } else {
    fail(Failure::kHello, reply, false, true);
  }
}

void ClientSession::on_helo(const ServerReply& reply) {
  if (!reply.positive()) {
    fail(Failure::kHello, reply, false, true);
    return;
  }
  caps_ = Capabilities{};
  after_hello();
}

void ClientSession::after_hello() {
  if (!tls_active_ && config_.tls != TlsPolicy::kNone) {
    if (caps_.starttls) {
      send("STARTTLS", Expect::kStartTls);
      return;
    }
    if (config_.tls == TlsPolicy::kRequired) {
      fail_local(Failure::kTlsNotOffered, 454, "4.7.0",
                 "TLS is required but the server does not offer STARTTLS", true);
      return;
    }
  }
  start_auth();
}

void ClientSession::on_starttls(const ServerReply& reply) {
  if (reply.code == 220) {
    phase_ = Phase::kTlsHandshake;
    parser_.reset();
    event(ClientEventType::kStartTls);
  } else if (config_.tls == TlsPolicy::kRequired) {
    fail(Failure::kTlsRefused, reply, false, true);
  } else {
    start_auth();
  }
}

void ClientSession::tls_started() {
  RM_ASSERT(phase_ == Phase::kTlsHandshake);
  tls_active_ = true;
  caps_ = Capabilities{};  // RFC 3207 §4.2: forget what was learnt in plaintext
  parser_.reset();
  phase_ = Phase::kConnect;
  send_ehlo();
}

void ClientSession::tls_failed() {
  fail_local(Failure::kTlsFailed, 454, "4.7.0", "TLS handshake failed", false);
}

void ClientSession::start_auth() {
  if (!config_.credentials || authenticated_) {
    become_ready();
    return;
  }
  if (!tls_active_ && !config_.auth_plaintext_allowed) {
    fail_local(Failure::kAuthUnavailable, 454, "4.7.0",
               "authentication needs TLS, which is not active", true);
    return;
  }
  const ClientCredentials& credentials = *config_.credentials;
  if (caps_.auth_plain) {
    std::string response(1, '\0');  // RFC 4616: authzid (empty), authcid, password
    response += credentials.user;
    response += '\0';
    response += credentials.password;
    send("AUTH PLAIN " + base64_encode(response), Expect::kAuthPlain);
  } else if (caps_.auth_login) {
    send("AUTH LOGIN", Expect::kAuthLogin);
  } else {
    fail_local(Failure::kAuthUnavailable, 454, "4.7.0",
               "the server offers neither AUTH PLAIN nor AUTH LOGIN", true);
  }
}

void ClientSession::on_auth(Expect expect, const ServerReply& reply) {
  const ClientCredentials& credentials = *config_.credentials;
  if (expect == Expect::kAuthLogin && reply.code == 334) {
    send(base64_encode(credentials.user), Expect::kAuthLoginUser);
  } else if (expect == Expect::kAuthLoginUser && reply.code == 334) {
    send(base64_encode(credentials.password), Expect::kAuthLoginPassword);
  } else if ((expect == Expect::kAuthPlain || expect == Expect::kAuthLoginPassword) &&
             reply.positive()) {
    authenticated_ = true;
    become_ready();
  } else {
    // After an unexpected 334 the server waits for a SASL response, not for QUIT.
    fail(Failure::kAuthFailed, reply, false, reply.code != 334);
  }
}

void ClientSession::become_ready() {
  phase_ = Phase::kReady;
  tx_.reset();
  event(ClientEventType::kReady);
}

void ClientSession::quit() {
  if (phase_ == Phase::kDone) {
    return;
  }
  RM_ASSERT(ready());
  phase_ = Phase::kQuit;
  send("QUIT", Expect::kQuit);
}

// ---- Transactions --------------------------------------------------------------------

Status ClientSession::send_message(const OutboundMessage& message) {
  if (!ready()) {
    return Status::Unavailable("the SMTP session is not ready for a message");
  }
  if (message.recipients.empty()) {
    return Status::InvalidArgument("a message needs at least one recipient");
  }
  if (!safe_address(message.sender)) {
    return Status::InvalidArgument("sender address with a control byte or angle bracket");
  }
  for (const OutboundRecipient& recipient : message.recipients) {
    if (!safe_address(recipient.address)) {
      return Status::InvalidArgument("recipient address with a control byte or angle bracket");
    }
  }
  tx_.emplace();
  tx_->message = message;
  tx_->reported.assign(message.recipients.size(), false);
  tx_->bdat = caps_.chunking && (message.use_bdat || message.body == Body::kBinaryMime);
  phase_ = Phase::kEnvelope;
  if (const std::optional<ServerReply> refusal = local_refusal(message)) {
    for (size_t i = 0; i < message.recipients.size(); ++i) {
      report_recipient(i, Outcome::kPermanent, *refusal, true);
    }
    end_transaction(Outcome::kPermanent, *refusal, true);
    return Status::Ok();
  }
  const bool rset = rset_needed_;
  rset_needed_ = true;
  if (rset) {
    send("RSET", Expect::kRset);
    if (!caps_.pipelining) {
      return Status::Ok();  // MAIL follows RSET's reply
    }
  }
  send_envelope();
  return Status::Ok();
}

// What the server's EHLO rules out before anything is sent.
std::optional<ServerReply> ClientSession::local_refusal(const OutboundMessage& message) const {
  if (message.smtputf8 && !caps_.smtputf8) {
    return make_reply(553, "5.6.7", "the message needs SMTPUTF8, which the server does not offer");
  }
  if (message.body == Body::kBinaryMime && !(caps_.binarymime && caps_.chunking)) {
    return make_reply(554, "5.6.3",
                      "the message needs BINARYMIME and CHUNKING, which the server does not offer");
  }
  if (message.size_bytes && caps_.size_bytes_max > 0 &&
      *message.size_bytes > caps_.size_bytes_max) {
    return make_reply(552, "5.3.4",
                      "message size " + std::to_string(*message.size_bytes) +
                          " exceeds the server's limit of " + std::to_string(caps_.size_bytes_max));
  }
  return std::nullopt;
}

void ClientSession::send_envelope() {
  const OutboundMessage& m = tx_->message;
  std::string line = "MAIL FROM:<" + m.sender + ">";
  if (caps_.size && m.size_bytes) {
    line += " SIZE=" + std::to_string(*m.size_bytes);
  }
  if (m.body == Body::k8BitMime && caps_.eightbitmime) {
    line += " BODY=8BITMIME";
  } else if (m.body == Body::kBinaryMime) {
    line += " BODY=BINARYMIME";  // local_refusal() made sure it is offered
  }
  if (m.smtputf8) {
    line += " SMTPUTF8";
  }
  if (caps_.dsn && m.ret != Ret::kUnset) {
    line += m.ret == Ret::kFull ? " RET=FULL" : " RET=HDRS";
  }
  if (caps_.dsn && !m.envid.empty()) {
    line += " ENVID=" + xtext(m.envid);
  }
  send(line, Expect::kMail);
  if (!caps_.pipelining) {
    return;
  }
  for (size_t i = 0; i < m.recipients.size(); ++i) {
    send_rcpt(i);
  }
  if (!tx_->bdat) {
    send("DATA", Expect::kData);  // RFC 2920: the last command of the group
  }
}

void ClientSession::send_rcpt(size_t recipient) {
  const OutboundRecipient& r = tx_->message.recipients[recipient];
  std::string line = "RCPT TO:<" + r.address + ">";
  if (caps_.dsn && r.notify != kNotifyUnset) {
    line += " NOTIFY=" + notify_value(r.notify);
  }
  if (caps_.dsn && !r.orcpt.empty()) {
    line += " ORCPT=" + orcpt_value(r.orcpt);
  }
  send(line, Expect::kRcpt, recipient);
}

void ClientSession::on_rset(const ServerReply& reply) {
  if (!reply.positive()) {
    fail(Failure::kProtocol, reply, false, false);
    return;
  }
  if (!caps_.pipelining) {
    send_envelope();
  }
}

void ClientSession::on_mail(const ServerReply& reply) {
  if (reply.positive()) {
    if (!caps_.pipelining) {
      send_rcpt(0);
    }
    return;
  }
  // Every recipient fails with the sender; pipelined RCPT and DATA replies are drained.
  const Outcome outcome = outcome_of(reply);
  for (size_t i = 0; i < tx_->reported.size(); ++i) {
    report_recipient(i, outcome, reply, false);
  }
  end_transaction(outcome, reply, false);
}

void ClientSession::on_rcpt(size_t recipient, const ServerReply& reply) {
  if (tx_->ended) {
    return;  // MAIL was refused
  }
  const Outcome outcome = outcome_of(reply);
  if (outcome == Outcome::kAccepted) {
    ++tx_->accepted;
  } else {
    tx_->last_refusal = reply;
  }
  report_recipient(recipient, outcome, reply, false);
  const bool last = recipient + 1 == tx_->reported.size();
  if (!caps_.pipelining && !last) {
    send_rcpt(recipient + 1);
  } else if (last && (!caps_.pipelining || tx_->bdat)) {
    after_rcpts();
  } else if (last && tx_->accepted == 0) {
    // DATA is already sent: its reply (503/554, RFC 2920 §3.1) is drained by on_data().
    end_transaction(outcome_of(tx_->last_refusal), tx_->last_refusal, false);
  }
}

void ClientSession::after_rcpts() {
  if (tx_->accepted == 0) {
    end_transaction(outcome_of(tx_->last_refusal), tx_->last_refusal, false);
  } else if (tx_->bdat) {
    start_body();
  } else {
    send("DATA", Expect::kData);
  }
}

void ClientSession::on_data(const ServerReply& reply) {
  if (tx_->ended) {
    if (reply.code == 354) {
      out_ += ".\r\n";  // no recipient, so no body: end the data at once
      pending_.push_back({Expect::kDiscard});
    }
    return;
  }
  if (reply.code == 354) {
    start_body();
  } else if (reply.positive()) {
    fail(Failure::kProtocol, reply, false, false);  // DATA cannot be done without a body
  } else {
    end_transaction(outcome_of(reply), reply, false);
  }
}

void ClientSession::start_body() {
  phase_ = Phase::kBody;
  event(ClientEventType::kNeedBody);
}

bool ClientSession::wants_body() const {
  return phase_ == Phase::kBody && !tx_->bdat_waiting;
}

void ClientSession::body_write(std::string_view piece) {
  RM_ASSERT(wants_body());
  if (!tx_->bdat) {
    tx_->stuffer.feed(piece, out_);
    return;
  }
  if (piece.empty()) {
    return;
  }
  append_bdat(piece, false, out_);
  pending_.push_back({Expect::kBdat});
  tx_->bdat_waiting = !caps_.pipelining;  // RFC 3030 §4.2: else each BDAT waits its reply
}

void ClientSession::body_end(std::string_view last) {
  RM_ASSERT(wants_body());
  phase_ = Phase::kBodySent;
  if (tx_->bdat) {
    append_bdat(last, true, out_);
    pending_.push_back({Expect::kBdatLast});
    return;
  }
  tx_->stuffer.feed(last, out_);
  tx_->stuffer.finish(out_);
  pending_.push_back({Expect::kDataEnd});
}

void ClientSession::on_bdat(const ServerReply& reply) {
  if (tx_->ended) {
    return;  // replies to chunks pipelined after a refused one
  }
  if (!reply.positive()) {
    end_transaction(outcome_of(reply), reply, false);  // RFC 3030 §4.2: no more chunks
    return;
  }
  if (tx_->bdat_waiting) {
    tx_->bdat_waiting = false;
    event(ClientEventType::kNeedBody);
  }
}

void ClientSession::on_message_end(const ServerReply& reply) {
  if (tx_->ended) {
    return;
  }
  if (reply.code >= 300 && reply.code < 400) {
    fail(Failure::kProtocol, reply, false, false);
    return;
  }
  end_transaction(outcome_of(reply), reply, false);
}

void ClientSession::report_recipient(size_t recipient, Outcome outcome, const ServerReply& reply,
                                     bool local) {
  RM_ASSERT(!tx_->reported[recipient]);
  tx_->reported[recipient] = true;
  ClientEvent e;
  e.type = ClientEventType::kRecipient;
  e.recipient = recipient;
  e.outcome = outcome;
  e.reply = reply;
  e.local = local;
  events_.push_back(std::move(e));
}

void ClientSession::report_message(Outcome outcome, const ServerReply& reply, bool local) {
  RM_ASSERT(tx_ && !tx_->ended);
  for (const bool reported : tx_->reported) {
    RM_ASSERT(reported);
  }
  tx_->ended = true;
  ClientEvent e;
  e.type = ClientEventType::kMessage;
  e.outcome = outcome;
  e.reply = reply;
  e.local = local;
  events_.push_back(std::move(e));
}

// The replies still owed for this transaction are drained before the next one may start.
void ClientSession::end_transaction(Outcome outcome, const ServerReply& reply, bool local) {
  report_message(outcome, reply, local);
  phase_ = Phase::kDraining;
  if (pending_.empty()) {
    become_ready();
  }
}

// ---- Failures ------------------------------------------------------------------------

void ClientSession::fail(Failure failure, const ServerReply& reply, bool local, bool send_quit) {
  if (phase_ == Phase::kDone) {
    return;
  }
  if (tx_ && !tx_->ended) {
    for (size_t i = 0; i < tx_->reported.size(); ++i) {
      if (!tx_->reported[i]) {
        report_recipient(i, Outcome::kTemporary, reply, local);
      }
    }
    report_message(Outcome::kTemporary, reply, local);
  }
  ClientEvent e;
  e.type = ClientEventType::kFailed;
  e.failure = failure;
  e.outcome = reply.permanent() ? Outcome::kPermanent : Outcome::kTemporary;
  e.reply = reply;
  e.local = local;
  events_.push_back(std::move(e));
  if (send_quit) {
    out_ += "QUIT\r\n";
  }
  phase_ = Phase::kDone;
  pending_.clear();
  tx_.reset();
}

void ClientSession::fail_local(Failure failure, int code, std::string_view enhanced,
                               std::string text, bool send_quit) {
  fail(failure, make_reply(code, enhanced, std::move(text)), true, send_quit);
}

void ClientSession::peer_closed() {
  if (phase_ == Phase::kDone) {
    return;
  }
  if (phase_ == Phase::kQuit) {
    phase_ = Phase::kDone;
    pending_.clear();
    event(ClientEventType::kClosed);
    return;
  }
  fail_local(Failure::kPeerClosed, 421, "4.4.2",
             "connection closed by the server during " + std::string(client_state_name(state())),
             false);
}

void ClientSession::timed_out() {
  if (phase_ == Phase::kDone) {
    return;
  }
  fail_local(Failure::kTimeout, 421, "4.4.2",
             "timed out waiting for the server during " + std::string(client_state_name(state())),
             false);
}

ClientState ClientSession::state() const {
  // Per Expect, in its order: the state its reply is awaited in.
  static constexpr ClientState kAwaiting[] = {
      ClientState::kGreeting, ClientState::kHello,     ClientState::kHello,
      ClientState::kStartTls, ClientState::kAuth,      ClientState::kAuth,
      ClientState::kAuth,     ClientState::kAuth,      ClientState::kMail,
      ClientState::kMail,     ClientState::kRcpt,      ClientState::kDataInit,
      ClientState::kDataEnd,  ClientState::kDataBlock, ClientState::kDataEnd,
      ClientState::kDataEnd,  ClientState::kQuit,
  };
  static_assert(std::size(kAwaiting) == static_cast<size_t>(Expect::kQuit) + 1);
  if (phase_ == Phase::kDone) {
    return ClientState::kClosed;
  }
  if (phase_ == Phase::kTlsHandshake) {
    return ClientState::kTlsHandshake;
  }
  if (phase_ == Phase::kReady) {
    return ClientState::kReady;
  }
  if (pending_.empty()) {
    return ClientState::kDataBlock;  // the body is being sent, no reply owed
  }
  return kAwaiting[static_cast<size_t>(pending_.front().expect)];
}

}  // namespace rm::smtp
