// rm_mail_load: POP3 / IMAP retrieval load, the same sessions as the anchors' Python
// `imap-load pop3|imap`, with a client cheap enough that the rate measures the server.
//
//   rm_mail_load pop3 --host 127.0.0.1 --port P --user 'user%d@dom' [--first 1] [--clients 20]
//                     [--pass PW] [--messages N] [--size B] [--runs R] [--timeout S] [--json FILE]
//   rm_mail_load imap --host 127.0.0.1 --port P --user big@dom [--clients 1] [--pass PW] ...
//
// pop3: C clients (default 20; a user template with %d gives client i the user first+i), all
//   started at once, each: connect, USER, PASS, LIST, RETR of every listed message (each reply
//   read up to its CRLF.CRLF, dot-unstuffed bytes counted), QUIT. One command in flight per
//   client. Reports messages/s and MB/s over the wall time from the first connect to the last
//   QUIT reply.
// imap: C clients (default 1), each: connect, CAPABILITY, LOGIN, SELECT INBOX, UID FETCH 1:*
//   (FLAGS RFC822.SIZE), FETCH 1:* (BODY.PEEK[]), LOGOUT; each phase timed (login includes the
//   connect and CAPABILITY, as imaplib does), the slowest client's time per phase. Literals
//   ({n} CRLF, then n bytes) are skipped by count; the session fails unless EXISTS, the FETCH
//   replies with RFC822.SIZE and the body literals agree.
// --messages N, when given, must equal each mailbox's message count (LIST entries; EXISTS).
//
// Output, like imap-load: one line per run, then `median of R: key=value ...`; --json FILE
// appends one JSON object {"mode", "client": "cpp", "clients", "messages_per_mailbox", "size",
// "runs": [...], "median": {...}} with imap-load's keys (pop3: wall_s messages bytes msgs_per_s
// MB_per_s; imap: wall_s messages bytes login_s select_s uid_fetch_flags_size_s fetch_bodies_s
// logout_s bodies_msgs_per_s bodies_MB_per_s). Exit status 1 when any session failed.
//
// All clients run in one thread: non-blocking sockets on one level-triggered epoll instance,
// a 256 KiB input buffer each, replies scanned in place (memmem / memchr), nothing copied.
// SECURITY: a test client for servers of our own; --host must resolve to a loopback address.
// Replies are untrusted: every line, literal and count is bounded; a bad reply fails the
// session, never the program.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/runtime/args.h"

namespace {

constexpr const char* kProgram = "rm_mail_load";
constexpr size_t kInputBufferBytes = 256 * 1024;
constexpr size_t kLineBytesMax = 64 * 1024;    // a status line, LIST entry or FETCH line
constexpr uint64_t kMessagesMax = 10'000'000;  // LIST entries accepted per mailbox
constexpr uint64_t kLiteralBytesMax = uint64_t{1} << 32;
constexpr uint32_t kClientsMax = 10'000;
constexpr int kMaxEvents = 256;

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

enum class Mode { kPop3, kImap };

struct Args {
  Mode mode = Mode::kPop3;
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  std::string user = "user%d";
  std::string password = "pass";
  uint32_t first = 1;
  uint32_t clients = 0;  // 0: the mode's default
  bool same_user = false;
  uint64_t messages = 0;  // 0: not checked
  uint64_t size = 4096;   // only reported, as imap-load does
  uint32_t runs = 1;
  uint32_t timeout_s = 900;
  std::string json_path;
};

// ------------------------------------------------------------------ input buffer

// Bytes received and not yet parsed: [begin_, end_) of a fixed buffer.
class InputBuffer {
 public:
  InputBuffer() : bytes_(new char[kInputBufferBytes]) {}

  // Where the next recv() may write: at least a quarter of the buffer when the unparsed bytes
  // allow it (they are moved to the front), empty when the buffer holds only unparsed bytes.
  std::pair<char*, size_t> room() {
    if (begin_ == end_) {
      begin_ = end_ = 0;
    } else if (kInputBufferBytes - end_ < kInputBufferBytes / 4 && begin_ > 0) {
      std::memmove(bytes_.get(), bytes_.get() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    return {bytes_.get() + end_, kInputBufferBytes - end_};
  }
  void produced(size_t n) { end_ += n; }

  std::string_view data() const { return {bytes_.get() + begin_, end_ - begin_}; }
  void consume(size_t n) { begin_ += n; }
  // Makes the last n consumed bytes unparsed again. REQUIRES: no room() call since they were
  // consumed (room() may move them).
  void unconsume(size_t n) {
    if (n > begin_) {
      std::abort();
    }
    begin_ -= n;
  }

  // The next CRLF-terminated line without its CRLF, consumed; nullopt when it has not all
  // arrived. Sets *too_long when no CRLF is within kLineBytesMax.
  std::optional<std::string_view> read_line(bool* too_long) {
    const std::string_view d = data();
    const size_t at = d.find("\r\n");
    if (at == std::string_view::npos) {
      *too_long = d.size() > kLineBytesMax;
      return std::nullopt;
    }
    consume(at + 2);
    return d.substr(0, at);
  }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char a = s[i] >= 'a' && s[i] <= 'z' ? static_cast<char>(s[i] - 32) : s[i];
    if (a != prefix[i]) {
      return false;
    }
  }
  return true;
}

// REQUIRES: `needle` is upper case.
bool contains_nocase(std::string_view s, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= s.size(); ++i) {
    if (starts_with_nocase(s.substr(i), needle)) {
      return true;
    }
  }
  return false;
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end == s.data()) {
    return std::nullopt;
  }
  return v;
}

// ------------------------------------------------------------------ sessions

// One client's protocol state machine. The event loop feeds it bytes (input()) and sends
// what it queued (output()); it ends done() or failed() (error() says why).
class Session {
 public:
  virtual ~Session() = default;
  virtual void on_input() = 0;

  InputBuffer& input() { return in_; }
  std::string& output() { return out_; }
  bool done() const { return done_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& user() const { return user_; }
  Clock::time_point start_time() const { return start_; }
  Clock::time_point end_time() const { return end_; }
  void start(Clock::time_point t) { start_ = t; }
  void fail(std::string why) {
    if (error_.empty()) {
      error_ = user_ + ": " + std::move(why);
    }
  }

 protected:
  Session(std::string user, std::string password)
      : user_(std::move(user)), password_(std::move(password)) {}
  void finish() {
    end_ = Clock::now();
    done_ = true;
  }
  // The next line, or nullopt (the session failed when the line is over the limit).
  std::optional<std::string_view> line() {
    bool too_long = false;
    std::optional<std::string_view> l = in_.read_line(&too_long);
    if (too_long) {
      fail("a reply line longer than " + std::to_string(kLineBytesMax) + " bytes");
    }
    return l;
  }

  const std::string user_;
  const std::string password_;
  InputBuffer in_;
  std::string out_;

 private:
  bool done_ = false;
  std::string error_;
  Clock::time_point start_{};
  Clock::time_point end_{};
};

// USER, PASS, LIST, RETR each listed message, QUIT.
class Pop3Session final : public Session {
 public:
  Pop3Session(std::string user, std::string password, uint64_t expected)
      : Session(std::move(user), std::move(password)), expected_(expected) {}
  void on_input() override;
  uint64_t messages() const { return retrieved_; }
  uint64_t bytes() const { return bytes_; }

 private:
  enum class State {
    kGreeting,
    kUser,
    kPass,
    kListStatus,
    kListBody,
    kRetrStatus,
    kRetrBody,
    kQuit
  };
  enum class Scan { kMore, kEnd };
  bool on_status(std::string_view status);
  bool on_list_entry(std::string_view entry);
  Scan scan_body();
  void next_retr_or_quit();

  const uint64_t expected_;
  State state_ = State::kGreeting;
  std::vector<uint64_t> listed_;
  size_t next_ = 0;         // index in listed_ of the next RETR
  int64_t body_bytes_ = 0;  // of the current RETR reply, stuffing included
  uint64_t stuffed_ = 0;    // dots removed by unstuffing, current reply
  uint64_t retrieved_ = 0;
  uint64_t bytes_ = 0;
};

void Pop3Session::on_input() {
  while (!done() && !failed()) {
    if (state_ == State::kRetrBody) {
      if (scan_body() == Scan::kMore) {
        return;
      }
      bytes_ += static_cast<uint64_t>(body_bytes_) - stuffed_;
      ++retrieved_;
      next_retr_or_quit();
      continue;
    }
    const std::optional<std::string_view> l = line();
    if (!l) {
      return;
    }
    if (state_ == State::kListBody) {
      if (!on_list_entry(*l)) {
        return;
      }
    } else if (!on_status(*l)) {
      return;
    }
  }
}

bool Pop3Session::on_status(std::string_view status) {
  static constexpr const char* kCommand[] = {"greeting", "USER", "PASS", "LIST",
                                             "",         "RETR", "",     "QUIT"};
  if (!status.starts_with("+OK")) {
    fail(std::string(kCommand[static_cast<int>(state_)]) + " -> " +
         std::string(status.substr(0, 200)));
    return false;
  }
  switch (state_) {
    case State::kGreeting:
      out_ += "USER " + user_ + "\r\n";
      state_ = State::kUser;
      break;
    case State::kUser:
      out_ += "PASS " + password_ + "\r\n";
      state_ = State::kPass;
      break;
    case State::kPass:
      out_ += "LIST\r\n";
      state_ = State::kListStatus;
      break;
    case State::kListStatus:
      state_ = State::kListBody;
      break;
    case State::kRetrStatus:
      // The status line's CRLF starts the scan, so that a body line at the very start is
      // found by the same "CRLF ." search as every other line.
      in_.unconsume(2);
      body_bytes_ = -2;
      stuffed_ = 0;
      state_ = State::kRetrBody;
      break;
    case State::kQuit:
      finish();
      break;
    case State::kListBody:
    case State::kRetrBody:
      std::abort();  // not status states
  }
  return true;
}

bool Pop3Session::on_list_entry(std::string_view entry) {
  if (entry == ".") {
    if (expected_ != 0 && listed_.size() != expected_) {
      fail("LIST has " + std::to_string(listed_.size()) + " messages, expected " +
           std::to_string(expected_));
      return false;
    }
    next_retr_or_quit();
    return true;
  }
  if (entry.starts_with("..")) {
    entry.remove_prefix(1);
  }
  const std::optional<uint64_t> number = parse_decimal(entry);
  if (!number || listed_.size() >= kMessagesMax) {
    fail(!number ? "bad LIST entry: " + std::string(entry.substr(0, 200)) : "LIST too long");
    return false;
  }
  listed_.push_back(*number);
  return true;
}

// Counts the multi-line reply's bytes up to its CRLF.CRLF, consuming them as it goes (so a
// message of any size passes through the fixed buffer). Every line that starts with a dot
// follows a CRLF; the search keeps the last two bytes, which may begin one.
Pop3Session::Scan Pop3Session::scan_body() {
  for (;;) {
    const std::string_view d = in_.data();
    const void* hit = memmem(d.data(), d.size(), "\r\n.", 3);
    if (hit == nullptr) {
      const size_t keep = std::min<size_t>(2, d.size());
      body_bytes_ += static_cast<int64_t>(d.size() - keep);
      in_.consume(d.size() - keep);
      return Scan::kMore;
    }
    const size_t at = static_cast<size_t>(static_cast<const char*>(hit) - d.data());
    if (d.size() < at + 5) {
      body_bytes_ += static_cast<int64_t>(at);
      in_.consume(at);
      return Scan::kMore;
    }
    if (d[at + 3] == '\r' && d[at + 4] == '\n') {  // CRLF . CRLF: the end
      body_bytes_ += static_cast<int64_t>(at + 2);
      in_.consume(at + 5);
      return Scan::kEnd;
    }
    stuffed_ += d[at + 3] == '.' ? 1 : 0;
    body_bytes_ += static_cast<int64_t>(at + 3);
    in_.consume(at + 3);
  }
}

void Pop3Session::next_retr_or_quit() {
  if (next_ < listed_.size()) {
    out_ += "RETR " + std::to_string(listed_[next_++]) + "\r\n";
    state_ = State::kRetrStatus;
  } else {
    out_ += "QUIT\r\n";
    state_ = State::kQuit;
  }
}

// CAPABILITY, LOGIN, SELECT INBOX, UID FETCH 1:* (FLAGS RFC822.SIZE), FETCH 1:* (BODY.PEEK[]),
// LOGOUT, one at a time; the time of each phase.
class ImapSession final : public Session {
 public:
  enum Phase { kLogin, kSelect, kUidFetch, kFetchBodies, kLogout, kPhases };
  static constexpr const char* kPhaseKeys[kPhases] = {
      "login_s", "select_s", "uid_fetch_flags_size_s", "fetch_bodies_s", "logout_s"};

  ImapSession(std::string user, std::string password, uint64_t expected)
      : Session(std::move(user), std::move(password)), expected_(expected) {}
  void on_input() override;
  uint64_t messages() const { return exists_; }
  uint64_t bytes() const { return body_bytes_; }
  double phase_s(int p) const { return phase_s_[p]; }

 private:
  bool on_segment(std::string_view segment);
  void on_response_start(std::string_view first);
  bool on_tagged(std::string_view rest);
  void send_command(size_t index);
  bool check_counts();

  static constexpr const char* kCommands[] = {"CAPABILITY",
                                              "LOGIN",
                                              "SELECT INBOX",
                                              "UID FETCH 1:* (FLAGS RFC822.SIZE)",
                                              "FETCH 1:* (BODY.PEEK[])",
                                              "LOGOUT"};
  static constexpr size_t kCommandCount = sizeof kCommands / sizeof kCommands[0];
  static constexpr size_t kUidFetchCommand = 3;
  static constexpr size_t kFetchBodiesCommand = 4;
  const uint64_t expected_;
  bool greeted_ = false;
  size_t command_ = 0;  // index in kCommands of the command in flight
  std::string tag_;
  Clock::time_point phase_start_{};
  double phase_s_[kPhases] = {};
  // The response being read; it continues past each literal.
  bool continuing_ = false;
  bool untagged_fetch_ = false;
  bool has_size_ = false;
  uint64_t literal_left_ = 0;
  // Counts, as imap-load takes them.
  uint64_t exists_ = 0;
  uint64_t size_replies_ = 0;  // FETCH responses with RFC822.SIZE, in the UID FETCH phase
  uint64_t bodies_ = 0;        // literals of FETCH responses, in the FETCH phase
  uint64_t body_bytes_ = 0;
};

std::string imap_quote(std::string_view s) {
  std::string q = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      q += '\\';
    }
    q += c;
  }
  return q + "\"";
}

void ImapSession::on_input() {
  while (!done() && !failed()) {
    if (literal_left_ > 0) {
      const uint64_t take = std::min<uint64_t>(literal_left_, in_.data().size());
      in_.consume(static_cast<size_t>(take));
      literal_left_ -= take;
      if (literal_left_ > 0) {
        return;
      }
    }
    const std::optional<std::string_view> l = line();
    if (!l || !on_segment(*l)) {
      return;
    }
  }
}

// One CRLF-terminated piece of a response: its first line, or the text after a literal.
bool ImapSession::on_segment(std::string_view segment) {
  if (!continuing_) {
    if (!greeted_) {
      if (!segment.starts_with("* OK")) {
        fail("bad greeting: " + std::string(segment.substr(0, 200)));
        return false;
      }
      greeted_ = true;
      send_command(0);
      return true;
    }
    if (segment.starts_with(tag_ + " ")) {
      return on_tagged(segment.substr(tag_.size() + 1));
    }
    if (!segment.starts_with("* ")) {
      fail("unexpected reply to " + std::string(kCommands[command_]) + ": " +
           std::string(segment.substr(0, 200)));
      return false;
    }
    on_response_start(segment);
    if (failed()) {
      return false;
    }
  }
  if (untagged_fetch_ && contains_nocase(segment, "RFC822.SIZE")) {
    has_size_ = true;
  }
  // A literal: "{n}" at the end of the segment.
  if (segment.ends_with("}")) {
    const size_t open = segment.rfind('{');
    const std::optional<uint64_t> n =
        open == std::string_view::npos
            ? std::nullopt
            : parse_decimal(segment.substr(open + 1, segment.size() - open - 2));
    if (n) {
      if (*n > kLiteralBytesMax) {
        fail("a literal of " + std::to_string(*n) + " bytes");
        return false;
      }
      if (untagged_fetch_ && command_ == kFetchBodiesCommand) {
        ++bodies_;
        body_bytes_ += *n;
      }
      literal_left_ = *n;
      continuing_ = true;
      return true;
    }
  }
  if (untagged_fetch_ && has_size_ && command_ == kUidFetchCommand) {
    ++size_replies_;
  }
  continuing_ = false;
  return true;
}

void ImapSession::on_response_start(std::string_view first) {
  untagged_fetch_ = false;
  has_size_ = false;
  const std::string_view rest = first.substr(2);
  if (starts_with_nocase(rest, "BYE") && command_ + 1 != kCommandCount) {
    fail("BYE before LOGOUT: " + std::string(first.substr(0, 200)));
    return;
  }
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) {
    return;
  }
  const std::optional<uint64_t> n = parse_decimal(rest.substr(0, space));
  if (!n) {
    return;
  }
  const std::string_view what = rest.substr(space + 1);
  if (starts_with_nocase(what, "EXISTS") && what.size() == 6) {
    exists_ = *n;
  } else if (starts_with_nocase(what, "FETCH ")) {
    untagged_fetch_ = true;
  }
}

bool ImapSession::on_tagged(std::string_view rest) {
  if (!starts_with_nocase(rest, "OK")) {
    fail(std::string(kCommands[command_]) + " failed: " + std::string(rest.substr(0, 200)));
    return false;
  }
  const Clock::time_point now = Clock::now();
  if (command_ >= 1) {  // CAPABILITY belongs to the login phase, as with imaplib
    phase_s_[command_ - 1] = seconds_between(phase_start_, now);
    phase_start_ = now;
  }
  if (command_ + 1 == kCommandCount) {
    if (!check_counts()) {
      return false;
    }
    finish();
    return true;
  }
  send_command(command_ + 1);
  return true;
}

void ImapSession::send_command(size_t index) {
  command_ = index;
  tag_ = "a" + std::to_string(index + 1);
  out_ += tag_ + " " + kCommands[index];
  if (index == 0) {
    phase_start_ = start_time();
  } else if (index == 1) {
    out_ += " " + imap_quote(user_) + " " + imap_quote(password_);
  }
  out_ += "\r\n";
}

bool ImapSession::check_counts() {
  if (exists_ != size_replies_ || exists_ != bodies_ || (expected_ != 0 && exists_ != expected_)) {
    fail("EXISTS " + std::to_string(exists_) + ", RFC822.SIZE replies " +
         std::to_string(size_replies_) + ", bodies " + std::to_string(bodies_) +
         (expected_ != 0 ? ", expected " + std::to_string(expected_) : ""));
    return false;
  }
  return true;
}

// ------------------------------------------------------------------ event loop

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
};

struct Connection {
  Session* session = nullptr;
  int fd = -1;
  bool connected = false;
  size_t out_sent = 0;
  bool want_out = false;
};

// Runs every session to its end (or failure, or the deadline) on one epoll instance.
class Loop {
 public:
  Loop(const Endpoint& server, std::vector<Session*> sessions);
  ~Loop();
  // Returns when every session ended; at the deadline the unfinished ones are failed.
  void run(Clock::time_point deadline);

 private:
  void start(Connection& c, Clock::time_point now);
  void on_event(Connection& c, uint32_t events);
  void on_readable(Connection& c);
  void flush(Connection& c);
  void set_events(Connection& c, uint32_t events);
  void close(Connection& c, std::string why);

  const Endpoint server_;
  std::vector<Connection> connections_;
  int epfd_ = -1;
  size_t open_ = 0;
};

Loop::Loop(const Endpoint& server, std::vector<Session*> sessions) : server_(server) {
  connections_.resize(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    connections_[i].session = sessions[i];
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    std::fprintf(stderr, "%s: epoll_create1: %s\n", kProgram, std::strerror(errno));
    std::exit(1);
  }
}

Loop::~Loop() {
  for (Connection& c : connections_) {
    if (c.fd >= 0) {
      ::close(c.fd);
    }
  }
  ::close(epfd_);
}

void Loop::close(Connection& c, std::string why) {
  if (!why.empty()) {
    c.session->fail(std::move(why));
  }
  if (c.fd >= 0) {
    ::close(c.fd);
    c.fd = -1;
    --open_;
  }
}

void Loop::set_events(Connection& c, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &c;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
    close(c, std::string("epoll_ctl: ") + std::strerror(errno));
    return;
  }
  c.want_out = (events & EPOLLOUT) != 0;
}

void Loop::start(Connection& c, Clock::time_point now) {
  c.session->start(now);
  c.fd = socket(server_.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    c.session->fail(std::string("socket: ") + std::strerror(errno));
    return;
  }
  ++open_;
  const int one = 1;  // commands are small and must not wait for Nagle
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c.fd, reinterpret_cast<const sockaddr*>(&server_.addr), server_.len) != 0 &&
      errno != EINPROGRESS) {
    close(c, std::string("connect: ") + std::strerror(errno));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT;  // writable = the handshake finished
  ev.data.ptr = &c;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
    close(c, std::string("epoll_ctl: ") + std::strerror(errno));
  }
  c.want_out = true;
}

void Loop::run(Clock::time_point deadline) {
  const Clock::time_point now = Clock::now();
  for (Connection& c : connections_) {
    start(c, now);
  }
  epoll_event events[kMaxEvents];
  while (open_ > 0) {
    const int64_t left_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left_ms <= 0) {
      break;
    }
    const int n =
        epoll_wait(epfd_, events, kMaxEvents, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) {
      std::fprintf(stderr, "%s: epoll_wait: %s\n", kProgram, std::strerror(errno));
      std::exit(1);
    }
    for (int i = 0; i < n; ++i) {
      Connection& c = *static_cast<Connection*>(events[i].data.ptr);
      if (c.fd >= 0) {
        on_event(c, events[i].events);
      }
    }
  }
  for (Connection& c : connections_) {
    if (c.fd >= 0) {
      close(c, "timed out");
    }
  }
}

void Loop::on_event(Connection& c, uint32_t events) {
  if (!c.connected) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      close(c, std::string("connect: ") + std::strerror(err != 0 ? err : errno));
      return;
    }
    c.connected = true;
    set_events(c, EPOLLIN);
    return;
  }
  if (events & EPOLLOUT) {
    flush(c);
  }
  if (c.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
    on_readable(c);
  }
}

// One recv per readiness (level-triggered: what is left is reported again), then the session
// parses everything complete and queues its next command.
void Loop::on_readable(Connection& c) {
  Session& s = *c.session;
  const auto [room, room_bytes] = s.input().room();
  if (room_bytes == 0) {
    close(c, "input buffer full");
    return;
  }
  const ssize_t n = ::recv(c.fd, room, room_bytes, 0);
  if (n <= 0) {
    if (n == 0) {
      close(c, "the server closed the connection");
    } else if (errno != EAGAIN && errno != EINTR) {
      close(c, std::string("recv: ") + std::strerror(errno));
    }
    return;
  }
  s.input().produced(static_cast<size_t>(n));
  s.on_input();
  if (s.failed()) {
    close(c, "");
  } else if (s.done()) {
    close(c, "");
  } else {
    flush(c);
  }
}

void Loop::flush(Connection& c) {
  std::string& out = c.session->output();
  while (c.out_sent < out.size()) {
    const ssize_t n = ::send(c.fd, out.data() + c.out_sent, out.size() - c.out_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        if (!c.want_out) {
          set_events(c, EPOLLIN | EPOLLOUT);
        }
      } else {
        close(c, std::string("send: ") + std::strerror(errno));
      }
      return;
    }
    c.out_sent += static_cast<size_t>(n);
  }
  out.clear();
  c.out_sent = 0;
  if (c.want_out) {
    set_events(c, EPOLLIN);
  }
}

// ------------------------------------------------------------------ runs and report

// One run's figures, in imap-load's key order.
using Figures = std::vector<std::pair<std::string, double>>;

std::vector<std::string> user_names(const Args& a, uint32_t clients) {
  std::vector<std::string> users;
  const size_t at = a.user.find("%d");
  for (uint32_t i = 0; i < clients; ++i) {
    if (at == std::string::npos) {
      users.push_back(a.user);
    } else {
      const uint64_t number = uint64_t{a.first} + (a.same_user ? 0 : i);
      users.push_back(a.user.substr(0, at) + std::to_string(number) + a.user.substr(at + 2));
    }
  }
  return users;
}

// Runs the sessions; prints the failures and exits 1 if any failed (as imap-load does).
void run_sessions(const Args& a, const Endpoint& server, const std::vector<Session*>& sessions) {
  Loop loop(server, sessions);
  loop.run(Clock::now() + std::chrono::seconds(a.timeout_s));
  int shown = 0;
  for (const Session* s : sessions) {
    if (s->failed() || !s->done()) {
      if (shown++ < 5) {
        std::fprintf(stderr, "%s: client error: %s\n", kProgram,
                     s->failed() ? s->error().c_str() : (s->user() + ": unfinished").c_str());
      }
    }
  }
  if (shown > 0) {
    std::fprintf(stderr, "%s: %d of %zu clients failed\n", kProgram, shown, sessions.size());
    std::exit(1);
  }
}

std::pair<Clock::time_point, Clock::time_point> wall(const std::vector<Session*>& sessions) {
  Clock::time_point t0 = sessions[0]->start_time();
  Clock::time_point t1 = sessions[0]->end_time();
  for (const Session* s : sessions) {
    t0 = std::min(t0, s->start_time());
    t1 = std::max(t1, s->end_time());
  }
  return {t0, t1};
}

double value(const Figures& f, std::string_view key) {
  for (const auto& [k, v] : f) {
    if (k == key) {
      return v;
    }
  }
  return 0;
}

// One session per user, run together; the figures every mode reports (wall time, messages
// and bytes over all sessions). `owned` keeps the sessions for mode-specific figures.
template <typename SessionType>
Figures run_all(const Args& a, const Endpoint& server, const std::vector<std::string>& users,
                std::vector<std::unique_ptr<SessionType>>& owned) {
  std::vector<Session*> sessions;
  for (const std::string& u : users) {
    owned.push_back(std::make_unique<SessionType>(u, a.password, a.messages));
    sessions.push_back(owned.back().get());
  }
  run_sessions(a, server, sessions);
  const auto [t0, t1] = wall(sessions);
  uint64_t n = 0;
  uint64_t nbytes = 0;
  for (const auto& s : owned) {
    n += s->messages();
    nbytes += s->bytes();
  }
  return {{"wall_s", seconds_between(t0, t1)},
          {"messages", static_cast<double>(n)},
          {"bytes", static_cast<double>(nbytes)}};
}

Figures pop3_once(const Args& a, const Endpoint& server, const std::vector<std::string>& users) {
  std::vector<std::unique_ptr<Pop3Session>> owned;
  Figures f = run_all(a, server, users, owned);
  const double w = value(f, "wall_s");
  f.emplace_back("msgs_per_s", value(f, "messages") / w);
  f.emplace_back("MB_per_s", value(f, "bytes") / w / 1e6);
  return f;
}

Figures imap_once(const Args& a, const Endpoint& server, const std::vector<std::string>& users) {
  std::vector<std::unique_ptr<ImapSession>> owned;
  Figures f = run_all(a, server, users, owned);
  const double n = value(f, "messages");
  const double nbytes = value(f, "bytes");
  for (int p = 0; p < ImapSession::kPhases; ++p) {
    double slowest = 0;
    for (const auto& s : owned) {
      slowest = std::max(slowest, s->phase_s(p));
    }
    f.emplace_back(ImapSession::kPhaseKeys[p], slowest);
  }
  const double bodies_s = f[3 + ImapSession::kFetchBodies].second;
  f.emplace_back("bodies_msgs_per_s", n / bodies_s);
  f.emplace_back("bodies_MB_per_s", nbytes / bodies_s / 1e6);
  return f;
}

// statistics.median: the middle value, or the mean of the two middle ones.
Figures median(const std::vector<Figures>& runs) {
  Figures m;
  for (size_t k = 0; k < runs[0].size(); ++k) {
    std::vector<double> v;
    for (const Figures& r : runs) {
      v.push_back(r[k].second);
    }
    std::sort(v.begin(), v.end());
    const size_t h = v.size() / 2;
    m.emplace_back(runs[0][k].first, v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2);
  }
  return m;
}

bool is_count(std::string_view key) {
  return key == "messages" || key == "bytes";
}

std::string json_object(const Figures& f) {
  std::string s = "{";
  char num[64];
  for (const auto& [k, v] : f) {
    if (is_count(k) && v == static_cast<double>(static_cast<uint64_t>(v))) {
      std::snprintf(num, sizeof num, "%llu", static_cast<unsigned long long>(v));
    } else {
      std::snprintf(num, sizeof num, "%.17g", v);
    }
    s += (s.size() > 1 ? ", \"" : "\"") + k + "\": " + num;
  }
  return s + "}";
}

void print_run(const Args& a, uint32_t run, uint32_t clients, const Figures& f) {
  if (a.mode == Mode::kPop3) {
    std::printf(
        "run %u: pop3 client=cpp clients=%u: %.0f msgs, %.1f MB in %.2f s = %.0f msgs/s, %.1f "
        "MB/s\n",
        run, clients, value(f, "messages"), value(f, "bytes") / 1e6, value(f, "wall_s"),
        value(f, "msgs_per_s"), value(f, "MB_per_s"));
  } else {
    std::printf(
        "run %u: imap clients=%u: %.0f msgs total %.2f s | login %.3f select %.3f "
        "uid-fetch(flags,size) %.3f fetch-bodies %.3f (%.0f msgs/s, %.1f MB/s) logout %.3f\n",
        run, clients, value(f, "messages"), value(f, "wall_s"), value(f, "login_s"),
        value(f, "select_s"), value(f, "uid_fetch_flags_size_s"), value(f, "fetch_bodies_s"),
        value(f, "bodies_msgs_per_s"), value(f, "bodies_MB_per_s"), value(f, "logout_s"));
  }
  std::fflush(stdout);
}

void report(const Args& a, uint32_t clients, const std::vector<Figures>& runs) {
  const Figures m = median(runs);
  std::printf("median of %zu:", runs.size());
  for (const auto& [k, v] : m) {
    if (is_count(k)) {
      std::printf(" %s=%.0f", k.c_str(), v);
    } else {
      std::printf(" %s=%.3f", k.c_str(), v);
    }
  }
  std::printf("\n");
  std::fflush(stdout);
  if (a.json_path.empty()) {
    return;
  }
  std::string line = std::string("{\"mode\": \"") + (a.mode == Mode::kPop3 ? "pop3" : "imap") +
                     "\", \"client\": \"cpp\", \"clients\": " + std::to_string(clients) +
                     ", \"messages_per_mailbox\": " + std::to_string(a.messages) +
                     ", \"size\": " + std::to_string(a.size) + ", \"runs\": [";
  for (size_t i = 0; i < runs.size(); ++i) {
    line += (i ? ", " : "") + json_object(runs[i]);
  }
  line += "], \"median\": " + json_object(m) + "}\n";
  FILE* f = std::fopen(a.json_path.c_str(), "a");
  if (f == nullptr || std::fputs(line.c_str(), f) < 0 || std::fclose(f) != 0) {
    std::fprintf(stderr, "%s: cannot write %s: %s\n", kProgram, a.json_path.c_str(),
                 std::strerror(errno));
    std::exit(1);
  }
}

// ------------------------------------------------------------------ command line

[[noreturn]] void usage() {
  std::fprintf(
      stderr,
      "usage: %s pop3|imap --port P [--host 127.0.0.1] [--user TEMPLATE] [--first N]\n"
      "       [--clients C] [--same-user] [--pass PW] [--messages N] [--size B] [--runs R]\n"
      "       [--timeout S] [--json FILE]\n",
      kProgram);
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  if (argc < 2) {
    usage();
  }
  Args a;
  const std::string_view mode = argv[1];
  if (mode == "pop3") {
    a.mode = Mode::kPop3;
  } else if (mode == "imap") {
    a.mode = Mode::kImap;
  } else {
    usage();
  }
  auto text = [&](int* i) { return std::string(rm::bench::flag_value(kProgram, argc, argv, i)); };
  auto number = [&](int* i, uint64_t min, uint64_t max) {
    const std::string_view flag = argv[*i];
    return rm::bench::parse_number(kProgram, flag, rm::bench::flag_value(kProgram, argc, argv, i),
                                   min, max);
  };
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--host") {
      a.host = text(&i);
    } else if (arg == "--port") {
      a.port = static_cast<uint16_t>(number(&i, 1, 65535));
    } else if (arg == "--user") {
      a.user = text(&i);
    } else if (arg == "--pass" || arg == "--password") {
      a.password = text(&i);
    } else if (arg == "--first") {
      a.first = static_cast<uint32_t>(number(&i, 0, 1'000'000'000));
    } else if (arg == "--clients") {
      a.clients = static_cast<uint32_t>(number(&i, 1, kClientsMax));
    } else if (arg == "--same-user") {
      a.same_user = true;
    } else if (arg == "--messages") {
      a.messages = number(&i, 0, kMessagesMax);
    } else if (arg == "--size") {
      a.size = number(&i, 0, kLiteralBytesMax);
    } else if (arg == "--runs") {
      a.runs = static_cast<uint32_t>(number(&i, 1, 1000));
    } else if (arg == "--timeout") {
      a.timeout_s = static_cast<uint32_t>(number(&i, 1, 86'400));
    } else if (arg == "--json") {
      a.json_path = text(&i);
    } else {
      usage();
    }
  }
  if (a.port == 0) {
    std::fprintf(stderr, "%s: --port is required\n", kProgram);
    std::exit(2);
  }
  const std::string_view credentials[] = {a.user, a.password};
  for (const std::string_view c : credentials) {
    if (c.find_first_of("\r\n") != std::string_view::npos) {
      std::fprintf(stderr, "%s: --user and --pass may not contain CR or LF\n", kProgram);
      std::exit(2);
    }
  }
  const size_t percent = a.user.find('%');
  if (percent != std::string::npos && (a.user.compare(percent, 2, "%d") != 0 ||
                                       a.user.find('%', percent + 1) != std::string::npos)) {
    std::fprintf(stderr, "%s: --user may hold one %%d and no other %%\n", kProgram);
    std::exit(2);
  }
  return a;
}

// The server's address; exits unless it is loopback.
Endpoint resolve_loopback(const Args& a) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string port = std::to_string(a.port);
  const int rc = getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    std::fprintf(stderr, "%s: %s: %s\n", kProgram, a.host.c_str(), gai_strerror(rc));
    std::exit(2);
  }
  Endpoint e;
  bool all_loopback = true;
  for (const addrinfo* r = res; r != nullptr; r = r->ai_next) {
    if (r->ai_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(r->ai_addr);
      all_loopback &= (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else if (r->ai_family == AF_INET6) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(r->ai_addr);
      all_loopback &= IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) != 0;
    } else {
      all_loopback = false;
    }
  }
  if (res != nullptr && all_loopback) {
    std::memcpy(&e.addr, res->ai_addr, res->ai_addrlen);
    e.len = res->ai_addrlen;
  }
  freeaddrinfo(res);
  if (!all_loopback || e.len == 0) {
    std::fprintf(stderr, "%s: %s is not a loopback address\n", kProgram, a.host.c_str());
    std::exit(2);
  }
  return e;
}

void raise_fd_limit(uint32_t clients) {
  const rlim_t need = rlim_t{clients} + 32;
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= need) {
    return;
  }
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? need : std::min(need, lim.rlim_max);
  setrlimit(RLIMIT_NOFILE, &lim);  // if it fails, the sockets beyond the limit fail visibly
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  const Endpoint server = resolve_loopback(a);
  const uint32_t clients = a.clients != 0 ? a.clients : (a.mode == Mode::kPop3 ? 20 : 1);
  raise_fd_limit(clients);
  const std::vector<std::string> users = user_names(a, clients);
  std::vector<Figures> runs;
  for (uint32_t r = 1; r <= a.runs; ++r) {
    runs.push_back(a.mode == Mode::kPop3 ? pop3_once(a, server, users)
                                         : imap_once(a, server, users));
    print_run(a, r, clients, runs.back());
  }
  report(a, clients, runs);
  return 0;
}
