// Framing IMAP client input into whole commands, literals included (RFC 9051 §4.3, §7.5;
// LITERAL+ / LITERAL- RFC 7888; literal8 RFC 3516).
//
// The session feeds every byte it receives; the reader keeps what it needs and hands out
// one FramedCommand at a time: the command line(s) with the literal payloads in place, and
// where those payloads are. A line that ends in a synchronizing literal `{n}` makes the
// reader report kContinuationNeeded: the session then sends "+ Ready\r\n" and goes on
// calling next(). Non-synchronizing literals `{n+}` need no continuation.
//
//   ImapCommandReader reader(limits);
//   reader.feed(received_bytes);
//   for (;;) {
//     ReaderEvent e = reader.next();
//     if (e == ReaderEvent::kNeedMore) break;
//     if (e == ReaderEvent::kContinuationNeeded) send("+ Ready\r\n");
//     if (e == ReaderEvent::kCommand) handle(parse_imap_command(reader.command()));
//     if (e == ReaderEvent::kError) {  // answer, then close if told to
//       send(error_response(reader.error()));  // command.h: "TAG NO [TOOBIG] text\r\n"
//       if (reader.error().must_close) ...;
//     }
//   }
//
// The same reader frames the lines a session reads in other states: the "DONE" that ends
// IDLE (is_idle_done()) and the base64 responses of AUTHENTICATE; those are just
// FramedCommands whose text the session reads itself.
//
// Memory is bounded: command text by command_text_bytes_max, each literal by its limit,
// literals by literals_per_command_max and command_literal_bytes_max; bytes fed but not
// yet consumed by next() are the session's responsibility (feed what one receive
// returned, then drain with next()).
// After an error the reader resynchronizes by itself: it drops the rest of the command,
// skipping the payload of any non-synchronizing literal in it (when that is no larger than
// refused_literal_skip_bytes_max; beyond that, error().must_close is set).
// Untrusted input: yes — all client bytes. Thread-safety: one instance per session.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rm::imap {

struct ImapReaderLimits {
  // Command text across all lines of one command, literal payloads excluded.
  size_t command_text_bytes_max = 64 * 1024;
  // One literal in any command other than APPEND (mailbox names, search strings, ...).
  uint64_t literal_bytes_max = 64 * 1024;
  // One literal in APPEND (the message; RFC 9051 APPENDLIMIT / TOOBIG).
  uint64_t append_literal_bytes_max = 64ull << 20;
  // Literals in one command (MULTIAPPEND sends one per message).
  size_t literals_per_command_max = 64;
  // Literal payload bytes of one command together: what a MULTIAPPEND may make the session
  // hold at once (NO [LIMIT] beyond it; the client appends fewer messages per command).
  uint64_t command_literal_bytes_max = 128ull << 20;
  // A refused non-synchronizing literal is skipped up to this size; past it the session
  // must close the connection instead of reading the bytes.
  uint64_t refused_literal_skip_bytes_max = 16ull << 20;
  // LITERAL+ (true) or LITERAL- (false: non-synchronizing literals above 4096 bytes are
  // refused, RFC 7888 §5).
  bool literal_plus = true;
};

inline constexpr uint64_t kLiteralMinusBytesMax = 4096;
inline constexpr size_t kTagBytesMax = 64;

struct LiteralSpan {
  size_t offset = 0;          // where the payload starts in FramedCommand::text
  size_t size = 0;            // payload bytes
  bool binary = false;        // literal8 "~{n}"
  bool synchronizing = true;  // "{n}" (false for "{n+}")
};

struct FramedCommand {
  // The whole command without its final CRLF. Each literal appears as written: its header
  // "{n}" / "{n+}" / "~{n}", CRLF, then its n payload bytes, then the rest of the command.
  std::string text;
  std::vector<LiteralSpan> literals;
};

enum class ReaderEvent : uint8_t {
  kNeedMore,            // feed more bytes
  kCommand,             // command() holds a complete command
  kContinuationNeeded,  // send a "+" continuation request now, then call next() again
  kError,               // error() says what to answer; the command is dropped
};

enum class ReaderErrorKind : uint8_t {
  kCommandTooLong,    // command text above command_text_bytes_max
  kLiteralTooBig,     // a literal above its limit
  kTooManyLiterals,   // above literals_per_command_max or command_literal_bytes_max
  kBadLiteralHeader,  // "{" with a number that does not fit
};

struct ReaderError {
  ReaderErrorKind kind = ReaderErrorKind::kCommandTooLong;
  std::string tag;          // the command's tag when it could be read, else empty ("*")
  std::string_view status;  // "BAD", or "NO" for an APPEND message literal that is too big
  std::string_view code;    // response code without brackets: "TOOBIG", "LIMIT" or empty
  std::string_view text;    // short human text
  bool must_close = false;  // the stream cannot be resynchronized: send BYE and close
};

class ImapCommandReader {
 public:
  explicit ImapCommandReader(ImapReaderLimits limits = {});

  // Takes all of `bytes` (copied into the reader's buffer).
  void feed(std::string_view bytes);
  // Advances; see ReaderEvent. Call until kNeedMore after each feed().
  ReaderEvent next();
  // REQUIRES: the last next() returned kCommand. Valid until the next call to next(); the
  // session may move the text out (to keep an APPEND message without a copy).
  const FramedCommand& command() const { return ready_; }
  FramedCommand& command() { return ready_; }
  // REQUIRES: the last next() returned kError.
  const ReaderError& error() const { return error_; }

  // Bytes held: unconsumed input plus the command being assembled.
  size_t buffered_bytes() const { return in_.size() - in_pos_ + current_.text.size(); }

 private:
  enum class State : uint8_t { kLine, kLiteral, kDiscardLine, kSkipLiteral };

  ReaderEvent read_line();
  ReaderEvent end_of_line(std::string_view line);
  ReaderEvent discard_line();
  ReaderEvent fail(ReaderErrorKind kind, std::string_view text, std::string_view line);
  void after_refused_literal(uint64_t size, bool synchronizing);
  void reset_command();

  ImapReaderLimits limits_;
  std::string in_;
  size_t in_pos_ = 0;
  size_t scan_pos_ = 0;  // where the search for LF resumes (avoids rescanning)
  State state_ = State::kLine;
  FramedCommand current_;
  FramedCommand ready_;
  ReaderError error_;
  size_t text_bytes_ = 0;       // non-literal bytes of current_
  uint64_t literal_left_ = 0;   // kLiteral / kSkipLiteral
  uint64_t literal_bytes_ = 0;  // payload bytes of current_'s literals
  bool is_append_ = false;
  bool first_line_done_ = false;
  std::string discard_tail_;  // the end of a discarded line (for a literal header)
};

// True for the line that ends IDLE: "DONE", case-insensitive (RFC 2177).
bool is_idle_done(std::string_view line);

// The tag at the start of `text` when it is a valid tag (ASTRING-CHARs except '+'), else
// empty.
std::string_view leading_tag(std::string_view text);

}  // namespace rm::imap
