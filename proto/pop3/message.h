// A message as a POP3 multi-line response (RFC 1939 §3): what RETR and TOP send after
// their "+OK" line.
//
// append_multiline() dot-stuffs the message (a line starting with '.' gets another '.'),
// writes every line end as CRLF (a bare LF or bare CR becomes CRLF, so no client can see
// an end of response that is not the real one), adds a final CRLF when the message lacks
// one, and ends with ".\r\n". It is the SMTP client's DotStuffer, which scans with SIMD
// for line ends and copies whole runs.
// top_of_message() cuts a message to what TOP n k returns: the header, the blank line that
// ends it, and the first k lines of the body. Line ends are CRLF, LF or a bare CR, the same
// as the stuffer sees them, so the client gets exactly k body lines.
//   std::string out = "+OK\r\n";
//   append_multiline(top_of_message(message, 10), out);
// Untrusted input: the message bytes (any content, any size).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rm::pop3 {

// Appends the stuffed `message` and the terminating ".\r\n" to `out`.
void append_multiline(std::string_view message, std::string& out);

// The header, its blank line, and `body_lines` lines of the body: a prefix of `message`.
// A message without a blank line is all header and is returned whole.
std::string_view top_of_message(std::string_view message, uint32_t body_lines);

}  // namespace rm::pop3
