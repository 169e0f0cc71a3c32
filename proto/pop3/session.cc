#include "proto/pop3/session.h"

#include <utility>

#include "core/base/assert.h"
#include "core/base/base64.h"
#include "proto/pop3/message.h"
#include "proto/smtp/line_reader.h"

namespace rm::pop3 {
namespace {

constexpr std::string_view kTlsRequiredWithStls =
    "[AUTH] Plaintext authentication requires TLS: use STLS first";
constexpr std::string_view kTlsRequired = "[AUTH] Plaintext authentication is disabled without TLS";

bool is_valid_unique_id(std::string_view id) {
  if (id.empty() || id.size() > 70) {
    return false;
  }
  for (const char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return false;
    }
  }
  return true;
}

bool is_plain_mechanism(std::string_view name) {
  constexpr std::string_view kPlain = "PLAIN";
  if (name.size() != kPlain.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    if ((name[i] & ~0x20) != kPlain[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Pop3Session::Pop3Session(Pop3Options options)
    : options_(std::move(options)), tls_active_(options_.tls_active) {
  RM_ASSERT(options_.line_bytes_max >= 16 && options_.sasl_line_bytes_max >= 16);
  RM_ASSERT(options_.auth_failures_max >= 1 && options_.bad_commands_max >= 1);
}

void Pop3Session::on_connect() {
  RM_ASSERT(state_ == State::kNotConnected);
  state_ = State::kCommand;
  ok(options_.hostname + " POP3 ringmail ready");
}

// ---- replies and the session's end

void Pop3Session::ok(std::string_view text) {
  out_ += "+OK";
  if (!text.empty()) {
    out_ += ' ';
    out_.append(text);
  }
  out_ += "\r\n";
}

void Pop3Session::err(std::string_view text) {
  out_ += "-ERR ";
  out_.append(text);
  out_ += "\r\n";
}

// A refused command: counted, and past the limit the session ends, so that a client that
// is not speaking POP3 cannot keep a connection busy.
void Pop3Session::bad_command(std::string_view text) {
  err(text);
  if (++bad_commands_ >= options_.bad_commands_max) {
    err("Too many bad commands, closing connection");
    close();
  }
}

void Pop3Session::close() {
  state_ = State::kClosed;
  user_name_.clear();
  Pop3Action action;
  action.kind = Pop3ActionKind::kClose;
  action_ = std::move(action);
}

void Pop3Session::ask(Pop3Action action, State wait_state) {
  RM_ASSERT(!action_.has_value());
  action_ = std::move(action);
  state_ = wait_state;
}

std::string Pop3Session::take_output() {
  return std::exchange(out_, std::string());
}

std::optional<Pop3Action> Pop3Session::next_action() {
  return std::exchange(action_, std::nullopt);
}

bool Pop3Session::waiting() const {
  switch (state_) {
    case State::kWaitAuth:
    case State::kWaitTls:
    case State::kWaitMessage:
    case State::kWaitUpdate:
      return true;
    default:
      return false;
  }
}

void Pop3Session::on_timeout() {
  if (state_ != State::kClosed) {
    close();
  }
}

void Pop3Session::on_shutdown() {
  if (state_ != State::kClosed) {
    err("[SYS/TEMP] Server shutting down, try again later");
    close();
  }
}

// ---- input

size_t Pop3Session::feed(std::string_view input) {
  RM_ASSERT_MSG(state_ != State::kNotConnected, "on_connect() first");
  if (state_ == State::kClosed) {
    return input.size();
  }
  size_t used = 0;
  while (used < input.size() && !waiting() && state_ != State::kClosed) {
    const std::string_view rest = input.substr(used);
    const size_t n = discarding_ ? discard_line(rest) : feed_line(rest);
    if (n == 0) {
      break;  // needs more input
    }
    used += n;
  }
  // RFC 2595 §4: nothing the client sent in plaintext after STLS may be taken as a command
  // once TLS is on (command injection); and after the end nothing matters.
  if (state_ == State::kWaitTls || state_ == State::kClosed) {
    return input.size();
  }
  return used;
}

size_t Pop3Session::discard_line(std::string_view input) {
  const size_t used = smtp::skip_past_line(input);
  if (input[used - 1] == '\n') {
    discarding_ = false;
  }
  return used;
}

size_t Pop3Session::feed_line(std::string_view input) {
  RM_ASSERT(state_ == State::kCommand || state_ == State::kSaslResponse);
  const uint32_t limit =
      state_ == State::kSaslResponse ? options_.sasl_line_bytes_max : options_.line_bytes_max;
  const smtp::LineResult line = smtp::next_line(input, limit, /*accept_bare_lf=*/true);
  switch (line.status) {
    case smtp::LineStatus::kNeedMore:
      return 0;
    case smtp::LineStatus::kTooLong:
    case smtp::LineStatus::kBareCr:
      // The rest of the line, up to its LF, is dropped as it arrives: never buffered.
      discarding_ = true;
      if (state_ == State::kSaslResponse) {
        state_ = State::kCommand;
      }
      bad_command(line.status == smtp::LineStatus::kTooLong ? "Line too long"
                                                            : "Bare CR in command line");
      // kTooLong: the first `limit` bytes go now; the rest, up to the LF, as it comes.
      return line.consumed != 0 ? line.consumed : limit;
    case smtp::LineStatus::kBareLf:  // not with accept_bare_lf
    case smtp::LineStatus::kLine:
      break;
  }
  if (state_ == State::kSaslResponse) {
    state_ = State::kCommand;
    on_sasl_response(line.line);
    return line.consumed;
  }
  const ParseResult parsed = parse_command(line.line, options_.argument_bytes_max);
  if (!parsed.command || parsed.command->verb != Verb::kPass) {
    user_name_.clear();  // RFC 1939 §7: PASS must follow USER at once
  }
  if (!parsed.command) {
    switch (parsed.error) {
      case ParseError::kUnknownCommand:
        bad_command("Unknown command");
        break;
      case ParseError::kBadArguments:
        bad_command("Wrong number of arguments");
        break;
      case ParseError::kArgumentTooLong:
        bad_command("Argument too long");
        break;
    }
    return line.consumed;
  }
  const uint8_t now = in_transaction_ ? kInTransaction : kInAuthorization;
  if ((verb_info(parsed.command->verb).states & now) == 0) {
    bad_command("Command not valid in this state");
    return line.consumed;
  }
  handle(*parsed.command);
  return line.consumed;
}

void Pop3Session::handle(const Command& cmd) {
  switch (cmd.verb) {
    case Verb::kUser:
      on_user(cmd);
      break;
    case Verb::kPass:
      on_pass(cmd);
      break;
    case Verb::kAuth:
      on_auth(cmd);
      break;
    case Verb::kStls:
      on_stls();
      break;
    case Verb::kCapa:
      on_capa();
      break;
    case Verb::kStat:
      on_stat();
      break;
    case Verb::kList:
      on_list(cmd, false);
      break;
    case Verb::kUidl:
      on_list(cmd, true);
      break;
    case Verb::kRetr:
      on_fetch(cmd, false);
      break;
    case Verb::kTop:
      on_fetch(cmd, true);
      break;
    case Verb::kDele:
      on_dele(cmd);
      break;
    case Verb::kRset:
      on_rset();
      break;
    case Verb::kNoop:
      ok("");
      break;
    case Verb::kQuit:
      on_quit();
      break;
  }
}

// ---- AUTHORIZATION

void Pop3Session::refuse_plaintext_login() {
  bad_command(stls_offered() ? kTlsRequiredWithStls : kTlsRequired);
}

void Pop3Session::on_user(const Command& cmd) {
  if (!plaintext_login_allowed()) {
    return refuse_plaintext_login();
  }
  user_name_.assign(cmd.arg(0));
  ok("Send PASS");  // the same whether the user exists or not
}

void Pop3Session::on_pass(const Command& cmd) {
  if (!plaintext_login_allowed()) {
    return refuse_plaintext_login();
  }
  if (user_name_.empty()) {
    return bad_command("Send USER first");
  }
  request_auth(std::exchange(user_name_, std::string()), std::string(cmd.arg(0)));
}

void Pop3Session::request_auth(std::string user, std::string password) {
  Pop3Action action;
  action.kind = Pop3ActionKind::kAuthenticate;
  action.user = std::move(user);
  action.password = std::move(password);
  auth_user_ = action.user;
  ask(std::move(action), State::kWaitAuth);
}

void Pop3Session::on_auth(const Command& cmd) {
  if (cmd.arg_count == 0) {
    // The mechanism list (RFC 1734's form, which clients still send).
    out_ += plaintext_login_allowed() ? "+OK\r\nPLAIN\r\n.\r\n" : "+OK\r\n.\r\n";
    return;
  }
  if (!is_plain_mechanism(cmd.arg(0))) {
    return bad_command("Unsupported authentication mechanism");
  }
  if (!plaintext_login_allowed()) {
    return refuse_plaintext_login();
  }
  if (cmd.arg_count == 1) {
    state_ = State::kSaslResponse;
    out_ += "+ \r\n";
    return;
  }
  // RFC 5034 §4: "=" is an initial response of zero length, which PLAIN cannot use.
  take_plain_response(cmd.arg(1) == "=" ? std::string_view() : cmd.arg(1));
}

void Pop3Session::on_sasl_response(std::string_view line) {
  if (line == "*") {  // RFC 5034 §4: the client cancels
    return bad_command("Authentication cancelled");
  }
  take_plain_response(line);
}

// RFC 4616: [authzid] NUL authcid NUL passwd. The session acts only as the authenticated
// identity, so an authzid must be empty or that identity.
void Pop3Session::take_plain_response(std::string_view base64) {
  const std::optional<std::string> decoded = base64_decode(base64);
  const size_t first = decoded ? decoded->find('\0') : std::string::npos;
  const size_t second = first == std::string::npos ? first : decoded->find('\0', first + 1);
  if (second == std::string::npos || decoded->find('\0', second + 1) != std::string::npos) {
    return bad_command("Malformed authentication data");
  }
  const std::string_view text = *decoded;
  const std::string_view authzid = text.substr(0, first);
  const std::string_view authcid = text.substr(first + 1, second - first - 1);
  const std::string_view password = text.substr(second + 1);
  if (authcid.empty() || password.empty()) {
    return bad_command("Malformed authentication data");
  }
  if (!authzid.empty() && authzid != authcid) {
    return login_failed("[AUTH] Authorization identity refused");
  }
  request_auth(std::string(authcid), std::string(password));
}

// A refused login: counted, and past the limit the session ends (password guessing).
void Pop3Session::login_failed(std::string_view text) {
  if (++auth_failures_ >= options_.auth_failures_max) {
    err(std::string(text) + ", too many attempts");
    return close();
  }
  err(text);
}

void Pop3Session::on_auth_result(Pop3AuthResult result, std::vector<Pop3MessageInfo> maildrop) {
  if (state_ == State::kClosed) {
    return;
  }
  RM_ASSERT(state_ == State::kWaitAuth);
  state_ = State::kCommand;
  std::string user = std::exchange(auth_user_, std::string());
  switch (result) {
    case Pop3AuthResult::kOk:
      break;
    case Pop3AuthResult::kFailed:
      return login_failed("[AUTH] Authentication failed");
    case Pop3AuthResult::kTemporaryFailure:
      return err("[SYS/TEMP] Temporary authentication failure, try again later");
    case Pop3AuthResult::kInUse:
      return err("[IN-USE] Mailbox is in use by another session");
  }
  if (maildrop.size() > options_.messages_max) {
    maildrop.resize(options_.messages_max);
  }
  messages_.clear();
  messages_.reserve(maildrop.size());
  live_bytes_ = 0;
  for (Pop3MessageInfo& m : maildrop) {
    RM_ASSERT(is_valid_unique_id(m.unique_id));
    live_bytes_ += m.size_bytes;
    messages_.push_back(Entry{m.size_bytes, std::move(m.unique_id), false});
  }
  live_count_ = static_cast<uint32_t>(messages_.size());
  user_ = std::move(user);
  in_transaction_ = true;
  ok("Logged in, " + maildrop_summary());
}

void Pop3Session::on_stls() {
  if (!options_.tls_available) {
    return bad_command("STLS not available");
  }
  if (tls_active_) {
    return bad_command("Command not permitted when TLS active");
  }
  ok("Begin TLS negotiation");
  Pop3Action action;
  action.kind = Pop3ActionKind::kStartTls;
  ask(std::move(action), State::kWaitTls);
}

void Pop3Session::on_tls_started() {
  if (state_ == State::kClosed) {
    return;
  }
  RM_ASSERT(state_ == State::kWaitTls);
  state_ = State::kCommand;
  tls_active_ = true;
  user_name_.clear();  // RFC 2595 §4: forget what the client said before
}

void Pop3Session::on_capa() {
  out_ +=
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
      "AUTH-RESP-CODE\r\n";
  if (!in_transaction_) {
    // RFC 2449 §6.8 and RFC 2595 §4: no plaintext login offered where it is refused.
    if (plaintext_login_allowed()) {
      out_ += "USER\r\nSASL PLAIN\r\n";
    }
    if (stls_offered()) {
      out_ += "STLS\r\n";
    }
  }
  out_ += "IMPLEMENTATION ringmail\r\n.\r\n";
}

// ---- TRANSACTION

std::string Pop3Session::maildrop_summary() const {
  return std::to_string(live_count_) + " messages (" + std::to_string(live_bytes_) + " octets)";
}

// The live message `number` names, or nullptr after replying -ERR.
Pop3Session::Entry* Pop3Session::find_message(std::string_view number) {
  const std::optional<uint32_t> n = parse_number(number);
  if (!n) {
    bad_command("Invalid message number");
    return nullptr;
  }
  if (*n == 0 || *n > messages_.size()) {
    err("No such message");
    return nullptr;
  }
  Entry& entry = messages_[*n - 1];
  if (entry.deleted) {
    err("Message " + std::to_string(*n) + " already deleted");
    return nullptr;
  }
  return &entry;
}

void Pop3Session::on_stat() {
  ok(std::to_string(live_count_) + " " + std::to_string(live_bytes_));
}

void Pop3Session::append_listing_line(uint32_t number, bool unique_ids) {
  const Entry& entry = messages_[number - 1];
  out_ += std::to_string(number);
  out_ += ' ';
  if (unique_ids) {
    out_ += entry.unique_id;
  } else {
    out_ += std::to_string(entry.size_bytes);
  }
}

void Pop3Session::on_list(const Command& cmd, bool unique_ids) {
  if (cmd.arg_count == 1) {
    if (find_message(cmd.arg(0)) == nullptr) {
      return;
    }
    out_ += "+OK ";
    append_listing_line(*parse_number(cmd.arg(0)), unique_ids);
    out_ += "\r\n";
    return;
  }
  ok(unique_ids ? std::string() : maildrop_summary());
  for (uint32_t i = 0; i < messages_.size(); ++i) {
    if (!messages_[i].deleted) {
      append_listing_line(i + 1, unique_ids);
      out_ += "\r\n";
    }
  }
  out_ += ".\r\n";
}

void Pop3Session::on_fetch(const Command& cmd, bool top) {
  std::optional<uint32_t> lines;
  if (top) {
    lines = parse_number(cmd.arg(1));
    if (!lines) {
      return bad_command("Invalid number of lines");
    }
  }
  const Entry* entry = find_message(cmd.arg(0));
  if (entry == nullptr) {
    return;
  }
  Pop3Action action;
  action.kind = Pop3ActionKind::kFetchMessage;
  action.message_number = *parse_number(cmd.arg(0));
  action.unique_id = entry->unique_id;
  action.top_body_lines = lines;
  fetch_top_ = lines;
  fetch_size_ = entry->size_bytes;
  ask(std::move(action), State::kWaitMessage);
}

void Pop3Session::on_message_chunk(std::string_view chunk, bool last) {
  if (state_ == State::kClosed) {
    return;
  }
  RM_ASSERT(state_ == State::kWaitMessage);
  if (!writer_) {
    ok(fetch_top_ ? std::string("Top of message follows")
                  : std::to_string(fetch_size_) + " octets");
    writer_.emplace(fetch_top_);
  }
  writer_->feed(chunk, out_);
  if (last) {
    writer_->finish(out_);
    writer_.reset();
    state_ = State::kCommand;
  }
}

void Pop3Session::on_message_failed(Pop3FetchError error) {
  if (state_ == State::kClosed) {
    return;
  }
  RM_ASSERT(state_ == State::kWaitMessage);
  RM_ASSERT(!writer_);
  state_ = State::kCommand;
  if (error == Pop3FetchError::kGone) {
    return err("Message was removed by another session");
  }
  err("[SYS/TEMP] Message temporarily unavailable, try again later");
}

void Pop3Session::on_dele(const Command& cmd) {
  Entry* entry = find_message(cmd.arg(0));
  if (entry == nullptr) {
    return;
  }
  entry->deleted = true;
  --live_count_;
  live_bytes_ -= entry->size_bytes;
  ok("Message " + std::string(cmd.arg(0)) + " deleted");
}

void Pop3Session::on_rset() {
  for (Entry& entry : messages_) {
    if (entry.deleted) {
      entry.deleted = false;
      ++live_count_;
      live_bytes_ += entry.size_bytes;
    }
  }
  ok(maildrop_summary());
}

void Pop3Session::on_quit() {
  if (!in_transaction_ || live_count_ == messages_.size()) {
    ok("ringmail signing off");
    return close();
  }
  // RFC 1939 §6: the UPDATE state; the deletions happen now and only now.
  Pop3Action action;
  action.kind = Pop3ActionKind::kUpdate;
  for (uint32_t i = 0; i < messages_.size(); ++i) {
    if (messages_[i].deleted) {
      action.deleted.push_back(i + 1);
    }
  }
  ask(std::move(action), State::kWaitUpdate);
}

void Pop3Session::on_update_done(bool applied) {
  if (state_ == State::kClosed) {
    return;
  }
  RM_ASSERT(state_ == State::kWaitUpdate);
  if (applied) {
    ok("ringmail signing off (" + std::to_string(live_count_) + " messages left)");
  } else {
    err("[SYS/TEMP] Some deleted messages were not removed");
  }
  close();
}

}  // namespace rm::pop3
