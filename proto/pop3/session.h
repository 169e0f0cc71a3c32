// Pop3Session: the POP3 server's side of one connection, as a pure state machine.
//
// Covers RFC 1939 (USER/PASS, STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT; not
// APOP), CAPA and response codes (RFC 2449, RFC 3206 [AUTH] and [SYS/TEMP]), STLS
// (RFC 2595) and AUTH PLAIN (RFC 5034, RFC 4616) with or without an initial response.
//
// Client bytes go in (feed), reply bytes come out (take_output). What needs the world
// outside — checking a password, starting TLS, reading a message, deleting messages,
// closing — is an action (next_action) the driver carries out asynchronously and then
// answers with the matching on_* call. While an action is out the session is waiting():
// feed() consumes nothing, so the driver keeps the unconsumed bytes and should stop reading
// until it has answered (pipelined commands are answered in order, never reordered).
//
//   Pop3Session s(options);
//   s.on_connect();                                   // the greeting
//   pending.erase(0, s.feed(pending));                // after every read
//   send(s.take_output());
//   while (std::optional<Pop3Action> a = s.next_action()) {
//     switch (a->kind) {
//       case Pop3ActionKind::kAuthenticate: ... s.on_auth_result(kOk, listing); break;
//       case Pop3ActionKind::kStartTls:     ... s.on_tls_started(); break;
//       case Pop3ActionKind::kFetchMessage: ... s.on_message(bytes); break;
//       case Pop3ActionKind::kUpdate:       ... s.on_update_done(true); break;
//       case Pop3ActionKind::kClose:        send the output, then close; break;
//     }
//     // then send(s.take_output()) and feed the bytes still pending.
//   }
//
// Messages are numbered from 1 in the order of the listing given to on_auth_result.
// Deletions are only marks until QUIT; a connection that drops or times out applies none.
// Nothing here is a socket, a clock or the store: golden transcripts test it byte for byte.
// Untrusted input: yes — everything the client sends. The driver's answers (the listing,
// the message bytes) are trusted for their form (see Pop3MessageInfo) but not their content.
// Thread-safety: none; one session per connection, used from its shard.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/pop3/command.h"
#include "proto/pop3/message.h"

namespace rm::pop3 {

struct Pop3Options {
  std::string hostname = "localhost";   // in the greeting
  bool tls_available = false;           // a TLS context exists: STLS can be offered
  bool tls_active = false;              // implicit TLS (port 995): TLS from the first byte
  bool plaintext_auth_allowed = false;  // USER/PASS and AUTH PLAIN even without TLS
  // RFC 2449 §4: a command is at most 255 octets with its CRLF; a little more is accepted
  // for lenient clients. A longer line is refused without being buffered.
  uint32_t line_bytes_max = 320;
  // A client line answering "+ " in AUTH: may be longer than a command (RFC 5034 §4 holds
  // only the AUTH command itself to 255 octets).
  uint32_t sasl_line_bytes_max = 2048;
  uint32_t argument_bytes_max = 255;  // each argument except AUTH's initial response
  uint32_t auth_failures_max = 3;     // failed logins, then the session ends
  uint32_t bad_commands_max = 10;     // refused commands, then the session ends
  uint32_t messages_max = 100000;     // a longer listing is cut to its first messages
};

// One message of the maildrop, as the driver lists it at login.
struct Pop3MessageInfo {
  uint64_t size_bytes = 0;  // the size RETR will send, counting CRLF line ends
  // The UIDL string, e.g. "UIDVALIDITY-UID". REQUIRES: 1 to 70 characters in 0x21..0x7E
  // (RFC 1939 §7), unique in the maildrop and stable across sessions.
  std::string unique_id;
};

enum class Pop3AuthResult : uint8_t {
  kOk,                // the maildrop is locked for this session
  kFailed,            // wrong user or password: "-ERR [AUTH]", counted
  kTemporaryFailure,  // the check could not be made: "-ERR [SYS/TEMP]"
  kInUse,             // right password, but another session holds the maildrop: "-ERR [IN-USE]"
};

enum class Pop3FetchError : uint8_t {
  kGone,       // the message was removed since the listing was made (e.g. by IMAP)
  kTemporary,  // the store could not read it now: "-ERR [SYS/TEMP]"
};

enum class Pop3ActionKind : uint8_t {
  kAuthenticate,  // check user/password, then on_auth_result()
  kStartTls,      // "+OK" for STLS is in the output: send it, start TLS, then on_tls_started()
  kFetchMessage,  // read the message, then on_message() or on_message_failed()
  kUpdate,        // QUIT with messages marked: delete `deleted` for good, then on_update_done()
  kClose,         // send the output, then close the connection and release the maildrop
};

struct Pop3Action {
  Pop3ActionKind kind = Pop3ActionKind::kClose;
  // kAuthenticate: from USER/PASS or AUTH PLAIN (whose authzid was empty or the same).
  std::string user;
  std::string password;
  // kFetchMessage: the message's number (from 1) and its listing entry's unique id.
  uint32_t message_number = 0;
  std::string unique_id;
  // kFetchMessage for TOP: only the header and this many body lines are needed; the driver
  // may pass the whole message anyway (the session cuts it).
  std::optional<uint32_t> top_body_lines;
  // kUpdate: the numbers (from 1) of the messages to delete, ascending, never empty.
  std::vector<uint32_t> deleted;
};

class Pop3Session {
 public:
  explicit Pop3Session(Pop3Options options);

  // Queues the greeting. Call once, first.
  void on_connect();
  // Consumes client bytes, queuing replies and maybe one action. Returns how many bytes
  // were used: it stops after a command that waits for an action (the rest is for later)
  // and before an incomplete line (feed it again with more bytes appended). Bytes after an
  // accepted STLS are consumed and dropped: they were sent in plaintext. After the session
  // closed, everything is consumed and ignored.
  size_t feed(std::string_view input);
  // The reply bytes queued so far; the queue is left empty.
  std::string take_output();
  bool has_output() const { return !out_.empty(); }
  // The action to carry out, once; nullopt when there is none.
  std::optional<Pop3Action> next_action();

  // Answers kAuthenticate. `maildrop` matters only with kOk: the messages in order (a
  // listing longer than options.messages_max is cut).
  void on_auth_result(Pop3AuthResult result, std::vector<Pop3MessageInfo> maildrop = {});
  // Answers kStartTls once TLS is on: the session is back at its start, without a greeting
  // (RFC 2595 §4). If TLS fails, close the connection instead.
  void on_tls_started();
  // Answers kFetchMessage with the message's bytes (LF or CRLF line ends).
  void on_message(std::string_view message) { on_message_chunk(message, true); }
  // The same in pieces, for a message too large to hold at once: call take_output() between
  // chunks to send what each one produced. `last` ends the message (its chunk may be empty).
  void on_message_chunk(std::string_view chunk, bool last);
  // Answers kFetchMessage when the message cannot be read. REQUIRES: no chunk was given
  // (a response cannot be taken back once begun: a driver failing half way must close).
  void on_message_failed(Pop3FetchError error);
  // Answers kUpdate: whether every deletion was applied. The session then closes.
  void on_update_done(bool applied);

  // The idle timer expired: close without a reply and without deleting (RFC 1939 §3).
  void on_timeout();
  // The server is stopping: "-ERR [SYS/TEMP]" and close, without deleting.
  void on_shutdown();
  // Answers that arrive after on_timeout() or on_shutdown() closed the session are ignored.

  bool waiting() const;  // an action is out and not yet answered
  bool closed() const { return state_ == State::kClosed; }
  bool authenticated() const { return in_transaction_; }
  // The logged-in user, "" before login.
  const std::string& user() const { return user_; }
  bool tls_active() const { return tls_active_; }

 private:
  enum class State : uint8_t {
    kNotConnected,
    kCommand,
    kSaslResponse,
    kWaitAuth,
    kWaitTls,
    kWaitMessage,
    kWaitUpdate,
    kClosed,
  };
  struct Entry {
    uint64_t size_bytes;
    std::string unique_id;
    bool deleted;
  };

  size_t feed_line(std::string_view input);
  size_t discard_line(std::string_view input);
  void handle(const Command& cmd);
  void on_user(const Command& cmd);
  void on_pass(const Command& cmd);
  void on_auth(const Command& cmd);
  void on_sasl_response(std::string_view line);
  void take_plain_response(std::string_view base64);
  void on_stls();
  void on_capa();
  void on_stat();
  void on_list(const Command& cmd, bool unique_ids);
  void on_fetch(const Command& cmd, bool top);
  void on_dele(const Command& cmd);
  void on_rset();
  void on_quit();
  void request_auth(std::string user, std::string password);
  void login_failed(std::string_view text);
  Entry* find_message(std::string_view number);
  void append_listing_line(uint32_t number, bool unique_ids);
  std::string maildrop_summary() const;
  bool plaintext_login_allowed() const { return tls_active_ || options_.plaintext_auth_allowed; }
  bool stls_offered() const { return options_.tls_available && !tls_active_; }
  void refuse_plaintext_login();

  void ok(std::string_view text);
  void err(std::string_view text);
  void bad_command(std::string_view text);
  void close();
  void ask(Pop3Action action, State wait_state);

  Pop3Options options_;
  State state_ = State::kNotConnected;
  bool in_transaction_ = false;
  bool tls_active_ = false;
  bool discarding_ = false;  // skipping the rest of a refused line, up to its LF
  std::string user_name_;    // USER's argument, waiting for PASS
  std::string auth_user_;    // the user whose check is out (kWaitAuth)
  std::string user_;         // the logged-in user
  std::string out_;
  std::optional<Pop3Action> action_;  // not yet taken by next_action()
  uint32_t auth_failures_ = 0;
  uint32_t bad_commands_ = 0;
  std::vector<Entry> messages_;
  uint32_t live_count_ = 0;  // messages not marked deleted
  uint64_t live_bytes_ = 0;
  std::optional<uint32_t> fetch_top_;  // the fetch in flight is a TOP with this many lines
  uint64_t fetch_size_ = 0;
  std::optional<MultilineWriter> writer_;  // the response being sent, once a chunk came
};

}  // namespace rm::pop3
