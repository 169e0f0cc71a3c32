// ServerSession: the SMTP server's side of one connection, as a pure state machine.
//
// Bytes from the client go in (feed), reply bytes come out; what needs the outside world is
// asked through SessionEnv (recipient policy, queue ids, the clock) or announced as an
// action the caller carries out and answers (commit_finished). It never touches a socket, a
// clock or the store, which is what lets golden transcripts test it byte for byte.
//
// Covers RFC 5321 with PIPELINING (2920), SIZE (1870), 8BITMIME, SMTPUTF8 (6531),
// ENHANCEDSTATUSCODES (2034/3463), CHUNKING/BDAT (3030) and DSN parameters (3461). DATA
// ends only at <CRLF>.<CRLF>; bare CR/LF is refused unless configured to normalize.
// Untrusted input: yes — everything a client sends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proto/smtp/command.h"
#include "proto/smtp/data_decoder.h"
#include "proto/smtp/reply.h"

namespace rm::smtp {

struct SessionConfig {
  std::string hostname = "localhost";
  bool submission = false;           // a submission port (587/465)
  bool hide_client_in_received = true;  // on submission ports: no client IP/HELO in Received
  bool starttls_offered = false;       // STARTTLS in EHLO (a TLS context exists)
  bool tls_active = false;             // implicit TLS (465): TLS from the first byte
  bool auth_enabled = false;           // AUTH PLAIN/LOGIN can be offered
  bool auth_plaintext_allowed = false; // ... even without TLS (else only after STARTTLS)
  bool vrfy_enabled = false;
  bool helo_required = false;             // Postfix's default too: MAIL may come first
  uint64_t message_bytes_max = 52428800;  // SIZE
  uint32_t recipients_max = 1000;
  uint32_t errors_max = 20;               // then 421 and close
  uint32_t line_bytes_max = 2048;         // command lines, CRLF included
  BareLinePolicy bare_line_policy = BareLinePolicy::kReject;
};

struct RecipientRequest {
  const Mailbox& mailbox;
  bool authenticated;
  std::string_view client_address;
};

// What the session needs from the server around it.
class SessionEnv {
 public:
  virtual ~SessionEnv() = default;
  // 250 to accept, or the refusal (550 5.1.1 unknown user, 554 5.7.1 relay denied, ...).
  virtual Reply check_recipient(const RecipientRequest& request) = 0;
  // A fresh queue id for the message about to be received (it goes in the Received header).
  virtual std::string next_queue_id() = 0;
  // The current date in RFC 5322 form ("Sun, 29 Nov 2026 17:01:29 +0000").
  virtual std::string rfc5322_now() = 0;
};

// Credentials the client gave with AUTH, to be checked (slowly, off the reactor).
struct Credentials {
  std::string user;
  std::string password;
};

struct EnvelopeRecipient {
  std::string address;
  uint8_t notify = kNotifyUnset;
  std::string orcpt;
};

// The message the session asks to be committed.
struct Draft {
  std::string queue_id;
  std::string sender;  // empty: the null sender <>
  std::vector<EnvelopeRecipient> recipients;
  MailParams params;
  std::string helo;
  std::string auth_user;  // the authenticated identity, "" if none
};

enum class SessionAction {
  kNone,
  kCommit,  // the draft and the body are complete: store them, then call commit_finished
  kClose,   // the last reply is queued: close the connection after sending it
  kStartTls,     // "220 Ready to start TLS" is queued: start TLS, then call tls_started()
  kAuthenticate, // check credentials(), then call auth_finished()
};

class ServerSession {
 public:
  // `client_address`: an RFC 5321 address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]").
  ServerSession(const SessionConfig& config, SessionEnv& env, std::string client_address);

  std::string greeting() const;
  // Consumes client bytes, appending replies to `out`. Returns the bytes consumed; it stops
  // early while an action is pending (the rest stays buffered for later).
  size_t feed(std::string_view input, std::string& out);
  SessionAction action() const { return action_; }
  const Draft& draft() const { return draft_; }
  // Decoded body bytes received so far and not yet taken (Received header first).
  std::string& body() { return body_; }
  uint64_t body_bytes_total() const { return body_total_; }
  // Answers kCommit: `error` empty means durable; else the reply to give (451/452 ...).
  void commit_finished(const Reply* error, std::string& out);

  const Credentials& credentials() const { return credentials_; }
  // Answers kAuthenticate. `refusal` overrides the 535 (e.g. 454 after too many failures).
  void auth_finished(bool ok, std::string& out, const Reply* refusal = nullptr);
  // Answers kStartTls once TLS is on: the session starts over (RFC 3207 §4.2).
  void tls_started();
  bool authenticated() const { return authenticated_; }

  // Client sent before the greeting (early talker): 554, then close.
  void early_talker(std::string& out);
  void timed_out(std::string& out);
  void shutting_down(std::string& out);
  bool in_data() const { return state_ == State::kData || state_ == State::kBdat; }

 private:
  enum class State {
    kCommand, kData, kBdat, kWaitCommit, kAuthPlain, kAuthLoginUser, kAuthLoginPassword,
    kWaitAuth, kClosed,
  };
  size_t feed_command(std::string_view input, std::string& out);
  size_t feed_data(std::string_view input, std::string& out);
  size_t feed_bdat(std::string_view input, std::string& out);
  void handle(const Command& cmd, bool more_input, std::string& out);
  void on_ehlo(const Command& cmd, bool extended, std::string& out);
  void on_mail(const Command& cmd, std::string& out);
  void on_rcpt(const Command& cmd, std::string& out);
  void on_data(bool more_input, std::string& out);
  void on_bdat(const Command& cmd);
  void on_auth(const Command& cmd, std::string& out);
  void on_starttls(std::string& out);
  size_t feed_auth_line(std::string_view input, std::string& out);
  void take_plain_response(std::string_view base64, std::string& out);
  bool auth_offered() const { return config_.auth_enabled && (tls_active_ || config_.auth_plaintext_allowed); }
  void finish_message(bool bare, bool too_large, std::string& out);
  void start_body();
  std::string received_header();
  void reply(std::string& out, int code, std::string_view status, std::string_view text);
  void error(std::string& out, int code, std::string_view status, std::string_view text);
  void reset_transaction();
  void close_with(std::string& out, int code, std::string_view status, std::string_view text);
  ParseContext parse_context() const;

  const SessionConfig& config_;
  SessionEnv& env_;
  const std::string client_address_;
  State state_ = State::kCommand;
  SessionAction action_ = SessionAction::kNone;
  bool helo_seen_ = false;
  bool esmtp_ = false;
  bool authenticated_ = false;
  bool tls_active_ = false;
  std::string auth_user_;
  Credentials credentials_;
  bool mail_seen_ = false;
  bool bdat_used_ = false;
  bool bdat_failed_ = false;  // the transaction's BDAT chunks are being discarded
  bool bdat_last_ = false;
  uint64_t bdat_remaining_ = 0;
  uint64_t bdat_chunk_bytes_ = 0;
  uint32_t errors_ = 0;
  Draft draft_;
  std::string body_;
  uint64_t body_total_ = 0;
  std::unique_ptr<DataDecoder> decoder_;
};

}  // namespace rm::smtp
