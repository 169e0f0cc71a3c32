#include "proto/pop3/message.h"

#include "proto/smtp/client/dot_stuffer.h"
#include "proto/smtp/data_decoder.h"

namespace rm::pop3 {
namespace {

// The offset just past the line end of the line starting at `pos` (CRLF, LF or a bare
// CR), or the message size when the line has no end.
size_t after_line_end(std::string_view message, size_t pos) {
  const size_t end = pos + smtp::find_cr_or_lf(message.data() + pos, message.size() - pos);
  if (end >= message.size()) {
    return message.size();
  }
  if (message[end] == '\r' && end + 1 < message.size() && message[end + 1] == '\n') {
    return end + 2;
  }
  return end + 1;
}

bool starts_empty_line(std::string_view message, size_t pos) {
  return message[pos] == '\r' || message[pos] == '\n';
}

}  // namespace

void append_multiline(std::string_view message, std::string& out) {
  // Room for the terminator and a few stuffed dots without reallocating.
  out.reserve(out.size() + message.size() + message.size() / 64 + 8);
  smtp::DotStuffer stuffer;
  stuffer.feed(message, out);
  stuffer.finish(out);
}

std::string_view top_of_message(std::string_view message, uint32_t body_lines) {
  size_t pos = 0;
  while (pos < message.size() && !starts_empty_line(message, pos)) {
    pos = after_line_end(message, pos);
  }
  if (pos >= message.size()) {
    return message;  // no blank line: all header
  }
  pos = after_line_end(message, pos);  // the blank line itself
  for (uint32_t i = 0; i < body_lines && pos < message.size(); ++i) {
    pos = after_line_end(message, pos);
  }
  return message.substr(0, pos);
}

}  // namespace rm::pop3
