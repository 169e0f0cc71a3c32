#include "proto/imap/response.h"

#include <charconv>

#include "proto/imap/char_class.h"

namespace rm::imap {
namespace {

bool needs_literal(std::string_view text, bool utf8) {
  if (text.size() > kQuotedBytesMax) {
    return true;
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n' || c == '\0' || (!utf8 && u >= 0x80)) {
      return true;
    }
  }
  return false;
}

bool is_astring_atom(std::string_view text) {
  if (text.empty() || text.size() > kQuotedBytesMax) {
    return false;
  }
  if (text.size() == 3 && (text[0] | 0x20) == 'n' && (text[1] | 0x20) == 'i' &&
      (text[2] | 0x20) == 'l') {
    return false;
  }
  for (char c : text) {
    if (!is_astring_char7(c)) {
      return false;
    }
  }
  return true;
}

}  // namespace

void append_string(std::string& out, std::string_view text, bool utf8) {
  if (needs_literal(text, utf8)) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), text.size());
    out.push_back('{');
    out.append(buf, end);
    out.append("}\r\n");
    out.append(text);
    return;
  }
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  out.push_back('"');
}

void append_nstring(std::string& out, std::optional<std::string_view> text, bool utf8) {
  if (!text) {
    out.append("NIL");
    return;
  }
  append_string(out, *text, utf8);
}

void append_astring(std::string& out, std::string_view text, bool utf8) {
  if (is_astring_atom(text)) {
    out.append(text);
    return;
  }
  append_string(out, text, utf8);
}

}  // namespace rm::imap
