#include "proto/mail_auth/header_fields.h"

namespace rm::mail_auth {
namespace {

// The offset just past the line that starts at `pos` (its LF included), or the block's size.
size_t line_end(std::string_view block, size_t pos) {
  size_t nl = block.find('\n', pos);
  return nl == std::string_view::npos ? block.size() : nl + 1;
}

bool is_empty_line(std::string_view block, size_t pos) {
  return block[pos] == '\n' ||
         (block[pos] == '\r' && pos + 1 < block.size() && block[pos + 1] == '\n');
}

// RFC 5322 ftext: printable ASCII except the colon.
bool is_ftext(char c) {
  return c >= 33 && c <= 126 && c != ':';
}

std::string_view strip_line_end(std::string_view s) {
  if (!s.empty() && s.back() == '\n') {
    s.remove_suffix(1);
    if (!s.empty() && s.back() == '\r') {
      s.remove_suffix(1);
    }
  }
  return s;
}

}  // namespace

std::optional<HeaderField> HeaderFieldReader::next() {
  if (done_ || pos_ >= block_.size() || is_empty_line(block_, pos_)) {
    done_ = true;
    return std::nullopt;
  }
  HeaderField field;
  field.offset = pos_;
  size_t end = line_end(block_, pos_);
  while (end < block_.size() && (block_[end] == ' ' || block_[end] == '\t')) {
    end = line_end(block_, end);
  }
  field.size = end - pos_;
  std::string_view text = strip_line_end(block_.substr(pos_, field.size));
  pos_ = end;

  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return field;
  }
  std::string_view name = text.substr(0, colon);
  while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
    name.remove_suffix(1);  // obsolete syntax allows white space before the colon
  }
  for (char c : name) {
    if (!is_ftext(c)) {
      return field;
    }
  }
  field.name = name;
  field.value = text.substr(colon + 1);
  return field;
}

bool header_name_is(std::string_view name, std::string_view expected) {
  if (name.size() != expected.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char a = name[i], b = expected[i];
    a = (a >= 'A' && a <= 'Z') ? static_cast<char>(a + 32) : a;
    b = (b >= 'A' && b <= 'Z') ? static_cast<char>(b + 32) : b;
    if (a != b) {
      return false;
    }
  }
  return true;
}

}  // namespace rm::mail_auth
