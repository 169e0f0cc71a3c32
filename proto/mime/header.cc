#include "proto/mime/header.h"

#include <algorithm>

namespace rm::mime {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// Length of the line end at the start of `s` ("\r\n", "\n"), 0 if none.
size_t line_end_at(std::string_view s) {
  if (!s.empty() && s[0] == '\n') {
    return 1;
  }
  if (s.size() >= 2 && s[0] == '\r' && s[1] == '\n') {
    return 2;
  }
  return 0;
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

size_t header_block_size(std::string_view message, size_t size_bytes_max, const MimeScanner& scan) {
  const size_t limit = std::min(message.size(), size_bytes_max);
  size_t pos = 0;
  while (pos < limit) {
    const size_t blank = line_end_at(message.substr(pos));
    if (blank != 0) {
      return pos + blank <= limit ? pos + blank : pos;
    }
    const size_t lf = scan.find_lf(message.data() + pos, message.size() - pos);
    if (pos + lf >= message.size()) {
      return limit == message.size() ? message.size() : pos;  // no line end: all header
    }
    if (pos + lf + 1 > limit) {
      return pos;  // the line crosses the limit: the header ends before it
    }
    pos += lf + 1;
  }
  return pos;
}

bool HeaderFieldReader::next(HeaderField& out) {
  while (!rest_.empty()) {
    // The field runs to the first line end not followed by a blank.
    size_t end = 0;
    while (true) {
      const size_t lf = rest_.find('\n', end);
      if (lf == std::string_view::npos) {
        end = rest_.size();
        break;
      }
      end = lf + 1;
      if (end >= rest_.size() || !is_blank(rest_[end])) {
        break;
      }
    }
    const std::string_view field = rest_.substr(0, end);
    rest_.remove_prefix(end);
    const size_t colon = field.find(':');
    const size_t first_lf = field.find('\n');
    if (colon == std::string_view::npos || colon > first_lf || colon == 0 || is_blank(field[0]) ||
        line_end_at(field) != 0) {
      continue;  // garbage line, stray continuation or the blank line
    }
    std::string_view name = field.substr(0, colon);
    while (!name.empty() && is_blank(name.back())) {
      name.remove_suffix(1);
    }
    std::string_view value = field.substr(colon + 1);
    if (!value.empty() && value.back() == '\n') {
      value.remove_suffix(1);
      if (!value.empty() && value.back() == '\r') {
        value.remove_suffix(1);
      }
    }
    out = HeaderField{name, value, field};
    return true;
  }
  return false;
}

bool header_name_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

std::optional<std::string_view> find_header_field(std::string_view block, std::string_view name) {
  HeaderFieldReader reader(block);
  HeaderField f;
  while (reader.next(f)) {
    if (header_name_equals(f.name, name)) {
      return f.raw_value;
    }
  }
  return std::nullopt;
}

std::string unfold_header_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : trim_blanks(raw)) {
    if (c != '\r' && c != '\n') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace rm::mime
