#include "proto/mime/content_fields.h"

#include <algorithm>
#include <cstdint>

#include "proto/mime/charset.h"
#include "proto/mime/header.h"

namespace rm::mime {
namespace {

bool is_tspecial(char c) {
  switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
      return true;
    default:
      return false;
  }
}

bool is_token_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 32 && u != 127 && !is_tspecial(c);
}

// A cursor over an RFC 2045 structured value.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  bool at_end() const { return pos_ >= s_.size(); }
  char peek() const { return at_end() ? '\0' : s_[pos_]; }
  void advance() { ++pos_; }

  // Skips blanks, line ends and (nested) comments.
  void skip_cfws() {
    int depth = 0;
    while (!at_end()) {
      const char c = s_[pos_];
      if (depth > 0 && c == '\\') {
        pos_ += 2;
      } else if (c == '(') {
        ++depth;
        ++pos_;
      } else if (c == ')' && depth > 0) {
        --depth;
        ++pos_;
      } else if (depth > 0 || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else {
        break;
      }
    }
    pos_ = std::min(pos_, s_.size());
  }

  std::string_view token() {
    const size_t start = pos_;
    while (!at_end() && is_token_char(s_[pos_])) {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }

  // REQUIRES: peek() == '"'. An unterminated string runs to the end.
  std::string quoted_string() {
    std::string out;
    ++pos_;
    while (!at_end() && s_[pos_] != '"') {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) {
        ++pos_;
      }
      if (s_[pos_] != '\r' && s_[pos_] != '\n') {
        out.push_back(s_[pos_]);
      }
      ++pos_;
    }
    if (!at_end()) {
      ++pos_;
    }
    return out;
  }

  // Lenient value: everything up to the next ';', blanks trimmed.
  std::string_view until_semicolon() {
    const size_t start = pos_;
    while (!at_end() && s_[pos_] != ';') {
      ++pos_;
    }
    std::string_view v = s_.substr(start, pos_ - start);
    while (!v.empty() &&
           (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) {
      v.remove_suffix(1);
    }
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

// A token value, with the comments after it dropped; when something else follows (an
// unquoted value with spaces, as broken mailers write), all of it up to the next ';' without
// line ends.
std::string token_or_lenient_value(Lexer& lx) {
  const Lexer start = lx;
  const std::string_view tok = lx.token();
  lx.skip_cfws();
  if (lx.at_end() || lx.peek() == ';') {
    return std::string(tok);
  }
  lx = start;
  std::string value;
  for (char c : lx.until_semicolon()) {
    if (c != '\r' && c != '\n') {
      value.push_back(c);
    }
  }
  return value;
}

struct RawParam {
  std::string name;
  std::string value;
};

std::vector<RawParam> read_params(Lexer& lx, size_t params_max) {
  std::vector<RawParam> out;
  while (out.size() < params_max) {
    lx.skip_cfws();
    if (lx.at_end()) {
      break;
    }
    if (lx.peek() == ';') {
      lx.advance();
      continue;
    }
    const std::string_view name = lx.token();
    lx.skip_cfws();
    if (name.empty() || lx.peek() != '=') {
      lx.until_semicolon();  // garbage: skip to the next parameter
      continue;
    }
    lx.advance();
    lx.skip_cfws();
    std::string value;
    if (lx.peek() == '"') {
      value = lx.quoted_string();
    } else {
      value = token_or_lenient_value(lx);
    }
    out.push_back(RawParam{std::string(name), std::move(value)});
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = static_cast<char>(c | 0x20);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() + 0 && hex_value(s[i + 1]) >= 0 &&
        hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// An RFC 2231 parameter name split: "title*1*" -> base "title", section 1, extended.
struct Rfc2231Name {
  std::string_view base;
  uint32_t section = 0;
  bool extended = false;
  bool is_2231 = false;
};

Rfc2231Name split_2231(std::string_view name) {
  Rfc2231Name n{name};
  const size_t star = name.find('*');
  if (star == std::string_view::npos || star == 0) {
    return n;
  }
  std::string_view rest = name.substr(star + 1);
  n.base = name.substr(0, star);
  n.is_2231 = true;
  if (rest.empty()) {
    n.extended = true;  // "name*"
    return n;
  }
  uint32_t section = 0;
  size_t i = 0;
  for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && i < 6; ++i) {
    section = section * 10 + static_cast<uint32_t>(rest[i] - '0');
  }
  if (i == 0 || (i < rest.size() && !(i + 1 == rest.size() && rest[i] == '*'))) {
    return Rfc2231Name{name};  // not RFC 2231 after all: keep the name as written
  }
  n.section = section;
  n.extended = i < rest.size();
  return n;
}

// Joins the sections of one RFC 2231 parameter (all with base name `base`).
std::string join_2231(const std::vector<RawParam>& raw, std::string_view base) {
  struct Piece {
    uint32_t section;
    bool extended;
    const std::string* value;
  };
  std::vector<Piece> pieces;
  for (const RawParam& p : raw) {
    const Rfc2231Name n = split_2231(p.name);
    if (n.is_2231 && header_name_equals(n.base, base)) {
      pieces.push_back(Piece{n.section, n.extended, &p.value});
    }
  }
  std::stable_sort(pieces.begin(), pieces.end(),
                   [](const Piece& a, const Piece& b) { return a.section < b.section; });
  std::string charset;
  std::string joined;
  for (size_t i = 0; i < pieces.size() && pieces[i].section == i; ++i) {
    std::string_view v = *pieces[i].value;
    if (i == 0 && pieces[i].extended) {
      const size_t q1 = v.find('\'');
      const size_t q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
      if (q2 != std::string_view::npos) {
        charset = std::string(v.substr(0, q1));
        v.remove_prefix(q2 + 1);
      }
    }
    joined += pieces[i].extended ? percent_decode(v) : std::string(v);
  }
  if (!charset.empty()) {
    if (std::optional<std::string> utf8 = charset_to_utf8(charset, joined)) {
      return std::move(*utf8);
    }
  }
  return joined;
}

std::vector<MimeParam> resolve_params(const std::vector<RawParam>& raw) {
  std::vector<MimeParam> out;
  for (const RawParam& p : raw) {
    const Rfc2231Name n = split_2231(p.name);
    if (!n.is_2231) {
      bool replaced_later = false;
      for (const RawParam& q : raw) {
        const Rfc2231Name m = split_2231(q.name);
        replaced_later |= m.is_2231 && header_name_equals(m.base, p.name);
      }
      if (!replaced_later) {
        out.push_back(MimeParam{p.name, p.value});
      }
      continue;
    }
    if (find_param(out, n.base) == nullptr) {
      out.push_back(MimeParam{std::string(n.base), join_2231(raw, n.base)});
    }
  }
  return out;
}

}  // namespace

const std::string* find_param(const std::vector<MimeParam>& params, std::string_view name) {
  for (const MimeParam& p : params) {
    if (header_name_equals(p.name, name)) {
      return &p.value;
    }
  }
  return nullptr;
}

bool parse_content_type(std::string_view raw, size_t params_max, ContentType& out) {
  Lexer lx(raw);
  lx.skip_cfws();
  const std::string_view type = lx.token();
  lx.skip_cfws();
  if (type.empty() || lx.peek() != '/') {
    return false;
  }
  lx.advance();
  lx.skip_cfws();
  const std::string_view subtype = lx.token();
  if (subtype.empty()) {
    return false;
  }
  out.type = std::string(type);
  out.subtype = std::string(subtype);
  out.params = resolve_params(read_params(lx, params_max));
  return true;
}

std::optional<ContentDisposition> parse_content_disposition(std::string_view raw,
                                                            size_t params_max) {
  Lexer lx(raw);
  lx.skip_cfws();
  const std::string_view type = lx.token();
  if (type.empty()) {
    return std::nullopt;
  }
  return ContentDisposition{std::string(type), resolve_params(read_params(lx, params_max))};
}

std::string parse_transfer_encoding(std::string_view raw) {
  Lexer lx(raw);
  lx.skip_cfws();
  return std::string(lx.token());
}

std::vector<std::string> parse_content_language(std::string_view raw, size_t tags_max) {
  std::vector<std::string> out;
  Lexer lx(raw);
  while (out.size() < tags_max) {
    lx.skip_cfws();
    if (lx.at_end()) {
      break;
    }
    const std::string_view tag = lx.token();
    if (!tag.empty()) {
      out.emplace_back(tag);
    } else {
      lx.advance();  // a separator or a stray special
    }
  }
  return out;
}

}  // namespace rm::mime
