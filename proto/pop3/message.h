// A message as a POP3 multi-line response (RFC 1939 §3): what RETR and TOP send after
// their "+OK" line, whole or chunk by chunk.
//
// MultilineWriter dot-stuffs the message (a line starting with '.' gets another '.'),
// writes every line end as CRLF (a bare LF or bare CR becomes CRLF, so no client can see
// an end of response that is not the real one), adds a final CRLF when the message lacks
// one, and ends with ".\r\n". It is the SMTP client's DotStuffer underneath, which finds
// line ends with SIMD and copies whole runs. For TOP it keeps only the header, the blank
// line that ends it and the first k body lines (TopCut). Chunks may split the message
// anywhere, even between a CR and its LF; the output does not depend on where.
//   MultilineWriter writer(/*top_body_lines=*/std::nullopt);
//   writer.feed(chunk1, out); writer.feed(chunk2, out); writer.finish(out);
// Line ends are CRLF, LF or a bare CR, the same for the cut as for the stuffer, so a TOP
// client gets exactly k body lines.
// Untrusted input: the message bytes (any content, any size).
// Thread-safety: none; one writer per response. The free functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "proto/smtp/client/dot_stuffer.h"

namespace rm::pop3 {

// Finds where TOP's part of a message ends, chunk by chunk.
class TopCut {
 public:
  explicit TopCut(uint32_t body_lines) : lines_left_(body_lines) {}
  // How many bytes at the start of `chunk` belong to the part; fewer than chunk.size()
  // only once the part is complete.
  size_t keep(std::string_view chunk);
  bool done() const { return done_; }

 private:
  uint32_t lines_left_;
  bool in_header_ = true;
  bool line_start_ = true;
  bool after_cr_ = false;  // the last byte seen was a CR: a LF next belongs to it
  bool done_ = false;
};

class MultilineWriter {
 public:
  // `top_body_lines`: send only the header and this many body lines (TOP); nullopt: all.
  explicit MultilineWriter(std::optional<uint32_t> top_body_lines);
  // Appends the wire form of `chunk` to `out` (nothing once TOP's part is complete).
  void feed(std::string_view chunk, std::string& out);
  // Appends the end: a CRLF if the last line had none, then ".\r\n".
  void finish(std::string& out);

 private:
  smtp::DotStuffer stuffer_;
  std::optional<TopCut> cut_;
};

// Appends the whole `message`, stuffed, and the terminating ".\r\n" to `out`.
void append_multiline(std::string_view message, std::string& out);

// The header, its blank line, and `body_lines` lines of the body: a prefix of `message`.
// A message without a blank line is all header and is returned whole.
std::string_view top_of_message(std::string_view message, uint32_t body_lines);

}  // namespace rm::pop3
