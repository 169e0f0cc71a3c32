#include "proto/smtp/line_reader.h"

#include <cstring>

namespace rm::smtp {

LineResult next_line(std::string_view input, size_t line_bytes_max, bool accept_bare_lf) {
  LineResult r;
  const size_t window = input.size() < line_bytes_max ? input.size() : line_bytes_max;
  for (size_t i = 0; i < window; ++i) {
    const char c = input[i];
    if (c == '\n') {
      if (!accept_bare_lf) {
        r.status = LineStatus::kBareLf;
        r.consumed = i + 1;
        return r;
      }
      r.status = LineStatus::kLine;
      r.line = input.substr(0, i);
      r.consumed = i + 1;
      return r;
    }
    if (c == '\r') {
      if (i + 1 >= input.size()) {
        return r;  // need the next byte to tell CRLF from a bare CR
      }
      if (input[i + 1] != '\n') {
        r.status = LineStatus::kBareCr;
        r.consumed = i + 1;
        return r;
      }
      if (i + 2 > line_bytes_max) {
        break;
      }
      r.status = LineStatus::kLine;
      r.line = input.substr(0, i);
      r.consumed = i + 2;
      return r;
    }
  }
  if (input.size() >= line_bytes_max) {
    r.status = LineStatus::kTooLong;
    r.consumed = 0;
  }
  return r;
}

size_t skip_past_line(std::string_view input) {
  const size_t lf = input.find('\n');
  return lf == std::string_view::npos ? input.size() : lf + 1;
}

}  // namespace rm::smtp
