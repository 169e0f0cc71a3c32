#include "proto/smtp/client/reply_parser.h"

#include <cstring>

namespace rm::smtp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Length of "D.DDD.DDD" (1 to 3 digits each after the class) at the start of `text`, when
// followed by a space or the end; else 0. RFC 3463 §2 / RFC 2034: the class must equal the
// reply code's first digit.
size_t enhanced_code_length(std::string_view text, char code_class) {
  if (text.size() < 5 || text[0] != code_class || text[1] != '.') {
    return 0;
  }
  size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    const size_t start = i;
    while (i < text.size() && i - start < 3 && is_digit(text[i])) {
      ++i;
    }
    if (i == start) {
      return 0;
    }
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') {
        return 0;
      }
      ++i;
    }
  }
  return (i == text.size() || text[i] == ' ') ? i : 0;
}

std::string_view drop_prefix(std::string_view text, size_t n) {
  text.remove_prefix(n);
  if (!text.empty() && text[0] == ' ') {
    text.remove_prefix(1);
  }
  return text;
}

}  // namespace

std::string ServerReply::summary() const {
  std::string out = std::to_string(code);
  if (!enhanced.empty()) {
    out += ' ';
    out += enhanced;
  }
  for (const std::string& line : lines) {
    if (!line.empty()) {
      out += ' ';
      out += line;
    }
  }
  return out;
}

void ReplyParser::reset() {
  line_.clear();
  reply_ = ServerReply{};
  error_ = Status::Ok();
}

Status ReplyParser::fail(std::string message) {
  error_ = Status::InvalidArgument("malformed SMTP reply: " + std::move(message));
  return error_;
}

Status ReplyParser::feed(std::string_view input, std::vector<ServerReply>& out) {
  if (!error_.ok()) {
    return error_;
  }
  // One more byte than the limit may be held: the CR of a CRLF split from its LF.
  const size_t held_max = limits_.line_bytes_max + 1;
  size_t i = 0;
  while (i < input.size()) {
    const void* lf = std::memchr(input.data() + i, '\n', input.size() - i);
    if (lf == nullptr) {
      if (line_.size() + (input.size() - i) > held_max) {
        return fail("line too long");
      }
      line_.append(input.substr(i));
      return Status::Ok();
    }
    const size_t end = static_cast<size_t>(static_cast<const char*>(lf) - input.data());
    std::string_view line = input.substr(i, end - i);
    i = end + 1;
    if (!line_.empty()) {
      if (line_.size() + line.size() > held_max) {
        return fail("line too long");
      }
      line_.append(line);
      line = line_;
    }
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    Status s = take_line(line, out);
    line_.clear();
    RM_RETURN_IF_ERROR(s);
  }
  return Status::Ok();
}

Status ReplyParser::take_line(std::string_view line, std::vector<ServerReply>& out) {
  if (line.size() > limits_.line_bytes_max) {
    return fail("line too long");
  }
  if (line.size() < 3 || line[0] < '2' || line[0] > '5' || !is_digit(line[1]) ||
      !is_digit(line[2])) {
    return fail("no reply code");
  }
  const bool last = line.size() == 3 || line[3] == ' ';
  if (!last && line[3] != '-') {
    return fail("no space or hyphen after the reply code");
  }
  const int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  std::string_view text = line.substr(line.size() > 3 ? 4 : 3);
  if (reply_.lines.empty()) {
    reply_.code = code;
    const size_t n = enhanced_code_length(text, line[0]);
    reply_.enhanced.assign(text.substr(0, n));
    text = drop_prefix(text, n);
  } else {
    if (code != reply_.code) {
      return fail("reply code changes within a multi-line reply");
    }
    if (reply_.lines.size() >= limits_.lines_max) {
      return fail("too many lines in one reply");
    }
    // Later lines repeat the enhanced code (RFC 2034 §4); it is kept once.
    const size_t n = enhanced_code_length(text, line[0]);
    if (n > 0 && text.substr(0, n) == reply_.enhanced) {
      text = drop_prefix(text, n);
    }
  }
  reply_.lines.emplace_back(text);
  if (last) {
    out.push_back(std::move(reply_));
    reply_ = ServerReply{};
  }
  return Status::Ok();
}

}  // namespace rm::smtp
