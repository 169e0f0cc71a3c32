#include "proto/smtp/session.h"

#include <algorithm>

#include "core/base/assert.h"
#include "core/base/base64.h"
#include "proto/smtp/line_reader.h"


namespace rm::smtp {

ServerSession::ServerSession(const SessionConfig& config, SessionEnv& env, std::string client_address)
    : config_(config), env_(env), client_address_(std::move(client_address)),
      tls_active_(config.tls_active) {}

std::string ServerSession::greeting() const {
  return "220 " + config_.hostname + " ESMTP ringmail\r\n";
}

void ServerSession::reply(std::string& out, int code, std::string_view status, std::string_view text) {
  out += std::to_string(code);
  out += ' ';
  if (!status.empty()) {
    out.append(status);
    out += ' ';
  }
  out.append(text);
  out += "\r\n";
}

// A refused command: counted, and past the limit the session ends (RFC 5321 §4.3.2 lets a
// server close with 421 when a client misbehaves).
void ServerSession::error(std::string& out, int code, std::string_view status, std::string_view text) {
  reply(out, code, status, text);
  if (++errors_ >= config_.errors_max) {
    close_with(out, 421, "4.7.0", config_.hostname + " Error: too many errors");
  }
}

void ServerSession::close_with(std::string& out, int code, std::string_view status,
                               std::string_view text) {
  reply(out, code, status, text);
  state_ = State::kClosed;
  action_ = SessionAction::kClose;
}

void ServerSession::early_talker(std::string& out) {
  close_with(out, 554, "5.5.0", config_.hostname + " Error: SMTP protocol synchronization");
}

void ServerSession::timed_out(std::string& out) {
  close_with(out, 421, "4.4.2", config_.hostname + " Error: timeout exceeded");
}

void ServerSession::shutting_down(std::string& out) {
  close_with(out, 421, "4.3.2", config_.hostname + " Service shutting down, closing channel");
}

ParseContext ServerSession::parse_context() const {
  ParseContext ctx;
  ctx.esmtp = esmtp_ || !helo_seen_;  // no greeting at all: be lenient, as Postfix is
  ctx.size_max = config_.message_bytes_max;
  ctx.utf8_transaction = draft_.params.smtputf8;
  return ctx;
}

void ServerSession::reset_transaction() {
  mail_seen_ = false;
  bdat_used_ = false;
  bdat_failed_ = false;
  bdat_last_ = false;
  draft_ = Draft{};
  body_.clear();
  body_total_ = 0;
  decoder_.reset();
}

size_t ServerSession::feed(std::string_view input, std::string& out) {
  size_t used = 0;
  while (used < input.size() && action_ == SessionAction::kNone) {
    const std::string_view rest = input.substr(used);
    size_t n = 0;
    switch (state_) {
      case State::kCommand: n = feed_command(rest, out); break;
      case State::kData: n = feed_data(rest, out); break;
      case State::kBdat: n = feed_bdat(rest, out); break;
      case State::kAuthPlain:
      case State::kAuthLoginUser:
      case State::kAuthLoginPassword: n = feed_auth_line(rest, out); break;
      case State::kWaitCommit:
      case State::kWaitAuth:
      case State::kClosed: return used;
    }
    if (n == 0) {
      break;  // needs more input
    }
    used += n;
  }
  // A BDAT of zero octets completes without input.
  if (state_ == State::kBdat && bdat_remaining_ == 0 && action_ == SessionAction::kNone) {
    feed_bdat(std::string_view(), out);
  }
  return used;
}

size_t ServerSession::feed_command(std::string_view input, std::string& out) {
  const bool normalize = config_.bare_line_policy == BareLinePolicy::kNormalize;
  const LineResult line = next_line(input, config_.line_bytes_max, normalize);
  switch (line.status) {
    case LineStatus::kNeedMore:
      return 0;
    case LineStatus::kTooLong:
      error(out, 500, "5.5.2", "Error: line too long");
      return skip_past_line(input);
    case LineStatus::kBareLf:
      error(out, 500, "5.5.2", "Error: bare <LF> received");
      return line.consumed;
    case LineStatus::kBareCr:
      error(out, 500, "5.5.2", "Error: bare <CR> received");
      return line.consumed + skip_past_line(input.substr(line.consumed));
    case LineStatus::kLine:
      break;
  }
  ParseResult parsed = parse_command(line.line, parse_context());
  if (!parsed.command) {
    error(out, parsed.error.code, parsed.error.status, parsed.error.text);
  } else {
    handle(*parsed.command, line.consumed < input.size(), out);
  }
  return line.consumed;
}

void ServerSession::handle(const Command& cmd, bool more_input, std::string& out) {
  switch (cmd.verb) {
    case Verb::kEhlo: on_ehlo(cmd, true, out); break;
    case Verb::kHelo: on_ehlo(cmd, false, out); break;
    case Verb::kMail: on_mail(cmd, out); break;
    case Verb::kRcpt: on_rcpt(cmd, out); break;
    case Verb::kData: on_data(more_input, out); break;
    case Verb::kBdat: on_bdat(cmd); break;
    case Verb::kRset:
      reset_transaction();
      reply(out, 250, "2.0.0", "Ok");
      break;
    case Verb::kNoop: reply(out, 250, "2.0.0", "Ok"); break;
    case Verb::kQuit: close_with(out, 221, "2.0.0", "Bye"); break;
    case Verb::kHelp:
      reply(out, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP");
      break;
    case Verb::kVrfy:
      if (config_.vrfy_enabled) {
        reply(out, 252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery");
      } else {
        error(out, 502, "5.5.1", "VRFY command is disabled");
      }
      break;
    case Verb::kExpn: error(out, 502, "5.5.1", "EXPN command is disabled"); break;
    case Verb::kStartTls: on_starttls(out); break;
    case Verb::kAuth: on_auth(cmd, out); break;
  }
}

void ServerSession::on_ehlo(const Command& cmd, bool extended, std::string& out) {
  reset_transaction();
  helo_seen_ = true;
  esmtp_ = extended;
  draft_.helo.assign(cmd.argument);
  if (!extended) {
    reply(out, 250, "", config_.hostname);
    return;
  }
  const std::string& h = config_.hostname;
  out += "250-" + h + "\r\n250-PIPELINING\r\n250-SIZE " + std::to_string(config_.message_bytes_max) +
         "\r\n";
  if (config_.vrfy_enabled) {
    out += "250-VRFY\r\n";
  }
  if (config_.starttls_offered && !tls_active_) {
    out += "250-STARTTLS\r\n";
  }
  if (auth_offered() && !authenticated_) {
    out += "250-AUTH PLAIN LOGIN\r\n";
  }
  out += "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n";
}

void ServerSession::on_mail(const Command& cmd, std::string& out) {
  if (!helo_seen_ && config_.helo_required) {
    return error(out, 503, "5.5.1", "Error: send HELO/EHLO first");
  }
  if (mail_seen_) {
    return error(out, 503, "5.5.1", "Error: nested MAIL command");
  }
  const std::string helo = draft_.helo;
  reset_transaction();
  draft_.helo = helo;
  mail_seen_ = true;
  draft_.sender = cmd.null_path ? std::string() : cmd.mailbox.address();
  draft_.auth_user = auth_user_;
  draft_.params = cmd.mail;
  reply(out, 250, "2.1.0", "Ok");
}

void ServerSession::on_rcpt(const Command& cmd, std::string& out) {
  if (!mail_seen_) {
    return error(out, 503, "5.5.1", "Error: need MAIL command");
  }
  if (draft_.recipients.size() >= config_.recipients_max) {
    return reply(out, 452, "4.5.3", "Error: too many recipients");
  }
  Reply decision = env_.check_recipient(RecipientRequest{cmd.mailbox, authenticated_, client_address_});
  if (!decision.ok()) {
    return error(out, decision.code, decision.status, decision.text);
  }
  std::string address = cmd.mailbox.domain.empty() ? cmd.mailbox.local : cmd.mailbox.address();
  draft_.recipients.push_back(EnvelopeRecipient{std::move(address), cmd.rcpt.notify, cmd.rcpt.orcpt});
  reply(out, 250, "2.1.5", "Ok");
}

void ServerSession::start_body() {
  draft_.queue_id = env_.next_queue_id();
  body_ = received_header();
  body_total_ = body_.size();
}

void ServerSession::on_data(bool more_input, std::string& out) {
  if (!mail_seen_) {
    return error(out, 503, "5.5.1", "Error: need MAIL command");
  }
  if (bdat_used_) {
    return error(out, 503, "5.5.1", "Error: DATA after BDAT");
  }
  if (draft_.recipients.empty()) {
    return error(out, 554, "5.5.1", "Error: no valid recipients");
  }
  if (more_input) {
    // RFC 2920: DATA ends a pipelined group; a client that sends its message before our
    // 354 is not speaking SMTP (a spam engine, or an attempt to smuggle).
    return close_with(out, 554, "5.5.0", "Error: improper command pipelining after DATA");
  }
  start_body();
  decoder_ = std::make_unique<DataDecoder>(config_.bare_line_policy, config_.message_bytes_max);
  state_ = State::kData;
  reply(out, 354, "", "End data with <CR><LF>.<CR><LF>");
}

size_t ServerSession::feed_data(std::string_view input, std::string& out) {
  const size_t before = body_.size();
  const size_t used = decoder_->feed(input, body_);
  body_total_ += body_.size() - before;
  if (decoder_->done()) {
    const bool bare = decoder_->saw_bare_line_end() && config_.bare_line_policy == BareLinePolicy::kReject;
    finish_message(bare, decoder_->too_large(), out);
  }
  return used;
}

void ServerSession::on_bdat(const Command& cmd) {
  bdat_remaining_ = cmd.chunk_size;
  bdat_chunk_bytes_ = cmd.chunk_size;
  bdat_last_ = cmd.last;
  state_ = State::kBdat;
  if (!mail_seen_ || draft_.recipients.empty()) {
    bdat_failed_ = true;  // the chunk is read and dropped, then refused
  } else if (!bdat_used_) {
    bdat_used_ = true;
    start_body();
  }
}

size_t ServerSession::feed_bdat(std::string_view input, std::string& out) {
  const size_t n = static_cast<size_t>(std::min<uint64_t>(bdat_remaining_, input.size()));
  bdat_remaining_ -= n;
  if (!bdat_failed_) {
    body_total_ += n;
    if (body_total_ <= config_.message_bytes_max) {
      body_.append(input.substr(0, n));
    }
  }
  if (bdat_remaining_ > 0) {
    return n;
  }
  state_ = State::kCommand;
  if (bdat_failed_) {
    const bool had_mail = mail_seen_;
    if (bdat_last_) {
      reset_transaction();
    }
    error(out, had_mail ? 554 : 503, "5.5.1",
          had_mail ? "Error: no valid recipients" : "Error: need MAIL command");
  } else if (bdat_last_) {
    finish_message(false, body_total_ > config_.message_bytes_max, out);
  } else {
    reply(out, 250, "2.0.0", "Ok: " + std::to_string(bdat_chunk_bytes_) + " octets received");
  }
  return n;
}

void ServerSession::finish_message(bool bare, bool too_large, std::string& out) {
  state_ = State::kCommand;
  if (too_large) {
    reset_transaction();
    return reply(out, 552, "5.3.4", "Error: message file too big");
  }
  if (bare) {
    reset_transaction();
    return error(out, 550, "5.5.2", "Error: bare <CR> or <LF> in message text");
  }
  state_ = State::kWaitCommit;
  action_ = SessionAction::kCommit;
}

void ServerSession::commit_finished(const Reply* failure, std::string& out) {
  const std::string id = draft_.queue_id;
  action_ = SessionAction::kNone;
  state_ = State::kCommand;
  reset_transaction();
  if (failure != nullptr) {
    return reply(out, failure->code, failure->status, failure->text);
  }
  reply(out, 250, "2.0.0", "Ok: queued as " + id);
}

// RFC 5321 §4.4 trace field, with the RFC 3848 / RFC 6531 protocol name.
std::string ServerSession::received_header() {
  std::string with = draft_.params.smtputf8 ? "UTF8SMTP" : (esmtp_ ? "ESMTP" : "SMTP");
  if (draft_.params.smtputf8 || esmtp_) {
    if (tls_active_) with += "S";
    if (authenticated_) with += "A";
  }
  std::string h = "Received: ";
  if (!(config_.submission && config_.hide_client_in_received)) {
    h += "from " + draft_.helo + " (" + client_address_ + ")\r\n\t";
  }
  h += "by " + config_.hostname + " (ringmail) with " + with + " id " + draft_.queue_id;
  if (draft_.recipients.size() == 1) {
    h += "\r\n\tfor <" + draft_.recipients.front().address + ">";
  }
  h += "; " + env_.rfc5322_now() + "\r\n";
  return h;
}

}  // namespace rm::smtp

namespace rm::smtp {

void ServerSession::on_starttls(std::string& out) {
  if (!config_.starttls_offered) {
    return error(out, 502, "5.5.1", "Error: command not implemented");
  }
  if (tls_active_) {
    return error(out, 503, "5.5.1", "Error: TLS already active");
  }
  if (mail_seen_) {
    return error(out, 503, "5.5.1", "Error: STARTTLS in a mail transaction");
  }
  reply(out, 220, "2.0.0", "Ready to start TLS");
  action_ = SessionAction::kStartTls;
}

void ServerSession::tls_started() {
  RM_ASSERT(action_ == SessionAction::kStartTls);
  action_ = SessionAction::kNone;
  tls_active_ = true;
  helo_seen_ = false;  // RFC 3207 §4.2: forget everything the client said before
  esmtp_ = false;
  reset_transaction();
  draft_.helo.clear();
}

void ServerSession::on_auth(const Command& cmd, std::string& out) {
  if (!auth_offered()) {
    return error(out, 503, "5.5.1", config_.auth_enabled ? "Error: authentication requires TLS (use STARTTLS)"
                                                         : "Error: authentication not enabled");
  }
  if (!helo_seen_ || !esmtp_) {
    return error(out, 503, "5.5.1", "Error: send EHLO first");
  }
  if (authenticated_) {
    return error(out, 503, "5.5.1", "Error: already authenticated");
  }
  if (mail_seen_) {
    return error(out, 503, "5.5.1", "Error: MAIL transaction in progress");
  }
  const std::string_view arg = cmd.argument;
  const size_t space = arg.find(' ');
  const std::string_view mechanism = arg.substr(0, space);
  const std::string_view initial = space == std::string_view::npos ? std::string_view() : arg.substr(space + 1);
  auto is = [mechanism](std::string_view name) {
    if (mechanism.size() != name.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if ((mechanism[i] & ~0x20) != name[i]) return false;
    }
    return true;
  };
  credentials_ = Credentials{};
  if (is("PLAIN")) {
    if (initial.empty()) {
      state_ = State::kAuthPlain;
      return reply(out, 334, "", "");
    }
    return take_plain_response(initial, out);
  }
  if (is("LOGIN")) {
    if (!initial.empty()) {  // RFC 4616-style initial response: the user name
      std::optional<std::string> user = base64_decode(initial);
      if (!user) return error(out, 501, "5.5.2", "Error: malformed authentication data");
      credentials_.user = std::move(*user);
      state_ = State::kAuthLoginPassword;
      return reply(out, 334, "", "UGFzc3dvcmQ6");
    }
    state_ = State::kAuthLoginUser;
    return reply(out, 334, "", "VXNlcm5hbWU6");  // "Username:"
  }
  error(out, 504, "5.5.4", "Error: unsupported authentication mechanism");
}

size_t ServerSession::feed_auth_line(std::string_view input, std::string& out) {
  const LineResult line = next_line(input, config_.line_bytes_max, false);
  if (line.status == LineStatus::kNeedMore) {
    return 0;
  }
  const State step = state_;
  state_ = State::kCommand;
  if (line.status != LineStatus::kLine) {
    error(out, 500, "5.5.2", "Error: malformed authentication line");
    return line.consumed != 0 ? line.consumed : skip_past_line(input);
  }
  if (line.line == "*") {  // RFC 4954 §4: the client cancels
    error(out, 501, "5.7.0", "Error: authentication aborted");
    return line.consumed;
  }
  if (step == State::kAuthPlain) {
    take_plain_response(line.line, out);
    return line.consumed;
  }
  std::optional<std::string> value = base64_decode(line.line);
  if (!value) {
    error(out, 501, "5.5.2", "Error: malformed authentication data");
  } else if (step == State::kAuthLoginUser) {
    credentials_.user = std::move(*value);
    state_ = State::kAuthLoginPassword;
    reply(out, 334, "", "UGFzc3dvcmQ6");  // "Password:"
  } else {
    credentials_.password = std::move(*value);
    state_ = State::kWaitAuth;
    action_ = SessionAction::kAuthenticate;
  }
  return line.consumed;
}

// RFC 4616: authzid NUL authcid NUL passwd; we act only as the authenticated identity.
void ServerSession::take_plain_response(std::string_view base64, std::string& out) {
  std::optional<std::string> decoded = base64_decode(base64);
  const size_t first = decoded ? decoded->find('\0') : std::string::npos;
  const size_t second = first == std::string::npos ? first : decoded->find('\0', first + 1);
  if (second == std::string::npos) {
    return error(out, 501, "5.5.2", "Error: malformed authentication data");
  }
  const std::string authzid = decoded->substr(0, first);
  credentials_.user = decoded->substr(first + 1, second - first - 1);
  credentials_.password = decoded->substr(second + 1);
  if (!authzid.empty() && authzid != credentials_.user) {
    return error(out, 535, "5.7.8", "Error: authentication failed: authorization identity refused");
  }
  state_ = State::kWaitAuth;
  action_ = SessionAction::kAuthenticate;
}

void ServerSession::auth_finished(bool ok, std::string& out, const Reply* refusal) {
  action_ = SessionAction::kNone;
  state_ = State::kCommand;
  const std::string user = std::move(credentials_.user);
  credentials_ = Credentials{};  // the password does not outlive the check
  if (ok) {
    authenticated_ = true;
    auth_user_ = user;
    return reply(out, 235, "2.7.0", "Authentication successful");
  }
  if (refusal != nullptr) {
    return error(out, refusal->code, refusal->status, refusal->text);
  }
  error(out, 535, "5.7.8", "Error: authentication failed");
}

}  // namespace rm::smtp
