// Splitting SMTP command input into lines.
//
// A command line ends with CRLF. A bare LF or a bare CR is refused by default — accepting
// them is what SMTP smuggling exploits — unless the server is configured to normalize, in
// which case a bare LF also ends a line. Lines longer than `line_bytes_max` (RFC 5321:
// 512 octets with the CRLF) are refused without waiting for their end.
// Untrusted input: yes.
#pragma once

#include <cstddef>
#include <string_view>

namespace rm::smtp {

enum class LineStatus {
  kLine,      // `line` is a complete line without its terminator
  kNeedMore,  // no complete line yet
  kTooLong,   // no line end within line_bytes_max bytes
  kBareLf,    // a LF without CR (policy: reject)
  kBareCr,    // a CR not followed by LF
};

struct LineResult {
  LineStatus status = LineStatus::kNeedMore;
  std::string_view line;
  size_t consumed = 0;  // bytes to drop from the input (the line and its terminator)
};

LineResult next_line(std::string_view input, size_t line_bytes_max, bool accept_bare_lf);

// After a refused line: how many bytes to drop to reach the start of the next line (through
// the next LF), or all of `input` when it holds no LF.
size_t skip_past_line(std::string_view input);

}  // namespace rm::smtp
