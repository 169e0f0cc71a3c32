#include "proto/mail_auth/authentication_results.h"

#include "core/base/assert.h"
#include "proto/mail_auth/header_fields.h"

namespace rm::mail_auth {
namespace {

constexpr std::string_view kFieldName = "Authentication-Results";

bool is_ctl(unsigned char c) {
  return c < 0x20 || c == 0x7F;
}

// RFC 2045 token characters.
bool is_token_char(unsigned char c) {
  static constexpr std::string_view kSpecials = "()<>@,;:\\\"/[]?=";
  return c > 0x20 && c < 0x7F && kSpecials.find(static_cast<char>(c)) == std::string_view::npos;
}

// RFC 5322 atext, with RFC 6532's UTF-8.
bool is_atext(unsigned char c) {
  static constexpr std::string_view kExtra = "!#$%&'*+-/=?^_`{|}~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 ||
         kExtra.find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_keyword_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool is_token(std::string_view s) {
  for (char c : s) {
    if (!is_token_char(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return !s.empty();
}

// dot-atom: atext runs separated by single dots.
bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') {
    return false;
  }
  char prev = 0;
  for (char c : s) {
    if (c == '.' ? prev == '.' : !is_atext(static_cast<unsigned char>(c))) {
      return false;
    }
    prev = c;
  }
  return true;
}

// [local-part] "@" domain, with a dot-atom local part.
bool is_address(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos) {
    return false;
  }
  std::string_view local = s.substr(0, at);
  return (local.empty() || is_dot_atom(local)) && is_dot_atom(s.substr(at + 1));
}

// The bytes of `s` that are safe inside a field (no control characters; a tab becomes a
// space), cut so that the result with `escape_extra` escaped stays within kValueBytesMax.
std::string safe_text(std::string_view s, std::string_view must_escape) {
  std::string out;
  size_t escaped_size = 0;
  for (char raw : s) {
    unsigned char c = static_cast<unsigned char>(raw);
    if (c == '\t') {
      c = ' ';
    } else if (is_ctl(c)) {
      continue;
    }
    bool escape = must_escape.find(static_cast<char>(c)) != std::string_view::npos;
    if (escaped_size + (escape ? 2 : 1) > kValueBytesMax) {
      break;
    }
    if (escape) {
      out.push_back('\\');
    }
    out.push_back(static_cast<char>(c));
    escaped_size += escape ? 2 : 1;
  }
  // Do not leave a UTF-8 sequence cut in the middle.
  size_t keep = out.size();
  while (keep > 0 && (static_cast<unsigned char>(out[keep - 1]) & 0xC0) == 0x80) {
    --keep;
  }
  if (keep > 0 && static_cast<unsigned char>(out[keep - 1]) >= 0xC0) {
    unsigned char lead = static_cast<unsigned char>(out[keep - 1]);
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    if (out.size() - (keep - 1) < need) {
      out.resize(keep - 1);
    }
  }
  return out;
}

std::string keyword(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (is_keyword_char(c) && out.size() < kValueBytesMax) {
      out.push_back(c);
    }
  }
  return out.empty() ? std::string("unknown") : out;
}

// The pieces of one resinfo, each of which stays on one line.
std::vector<std::string> resinfo_pieces(const MethodResult& r) {
  std::vector<std::string> pieces;
  pieces.push_back(keyword(r.method) + "=" + keyword(r.result));
  if (!r.comment.empty()) {
    pieces.push_back("(" + safe_text(r.comment, "()\\") + ")");
  }
  if (!r.reason.empty()) {
    pieces.push_back("reason=\"" + safe_text(r.reason, "\"\\") + "\"");
  }
  for (const Property& p : r.properties) {
    pieces.push_back(keyword(p.ptype) + "." + keyword(p.name) + "=" + format_value(p.value));
  }
  return pieces;
}

// Skips white space, line ends and (nested) comments from `pos`; returns the new position.
size_t skip_cfws(std::string_view s, size_t pos) {
  size_t depth = 0;
  for (; pos < s.size(); ++pos) {
    char c = s[pos];
    if (depth > 0) {
      if (c == '\\') {
        ++pos;
      } else if (c == '(') {
        ++depth;
      } else if (c == ')') {
        --depth;
      }
    } else if (c == '(') {
      depth = 1;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      return pos;
    }
  }
  return s.size();  // also when a quoted-pair ran past the end of an unterminated comment
}

// authserv-ids compare ignoring ASCII case and one trailing dot (it is usually a host name).
bool same_id(std::string_view a, std::string_view b) {
  if (a.ends_with('.')) {
    a.remove_suffix(1);
  }
  if (b.ends_with('.')) {
    b.remove_suffix(1);
  }
  return header_name_is(a, b);
}

// Whether the field value's authserv-id is ours, read both strictly (an RFC 2045 token or a
// quoted-string) and leniently (everything up to white space, ';' or '('), so that a forged
// field cannot hide from us behind a character some other reader would accept.
bool claims_id(std::string_view value, std::string_view id) {
  size_t pos = skip_cfws(value, 0);
  if (pos < value.size() && value[pos] == '"') {
    std::string unquoted;
    for (++pos; pos < value.size() && value[pos] != '"'; ++pos) {
      if (value[pos] == '\\' && pos + 1 < value.size()) {
        ++pos;
      }
      unquoted.push_back(value[pos]);
    }
    return same_id(unquoted, id);
  }
  size_t end = pos;
  while (end < value.size() && value[end] != ' ' && value[end] != '\t' && value[end] != '\r' &&
         value[end] != '\n' && value[end] != ';' && value[end] != '(') {
    ++end;
  }
  std::string_view lenient = value.substr(pos, end - pos);
  size_t token_end = 0;
  while (token_end < lenient.size() &&
         is_token_char(static_cast<unsigned char>(lenient[token_end]))) {
    ++token_end;
  }
  return same_id(lenient, id) || same_id(lenient.substr(0, token_end), id);
}

}  // namespace

std::string format_value(std::string_view value) {
  if (value.size() <= kValueBytesMax && (is_token(value) || is_address(value))) {
    return std::string(value);
  }
  return "\"" + safe_text(value, "\"\\") + "\"";
}

std::string format_method_result(const MethodResult& result) {
  std::string out;
  for (const std::string& piece : resinfo_pieces(result)) {
    if (!out.empty()) {
      out.push_back(' ');
    }
    out += piece;
  }
  return out;
}

std::string build_authentication_results(std::string_view authserv_id,
                                         std::span<const MethodResult> results) {
  std::string out(kFieldName);
  out += ": ";
  out += format_value(authserv_id);
  if (results.empty()) {
    out += "; none\r\n";
    return out;
  }
  out += ";";
  for (size_t i = 0; i < results.size(); ++i) {
    std::vector<std::string> pieces = resinfo_pieces(results[i]);
    if (i + 1 < results.size()) {
      pieces.back() += ";";
    }
    out += "\r\n\t";
    size_t column = 1;
    for (size_t k = 0; k < pieces.size(); ++k) {
      if (k > 0 && column + 1 + pieces[k].size() > kFoldColumn) {
        out += "\r\n\t";
        column = 1;
      } else if (k > 0) {
        out.push_back(' ');
        ++column;
      }
      out += pieces[k];
      column += pieces[k].size();
    }
  }
  out += "\r\n";
  return out;
}

std::vector<ByteRange> find_authentication_results(std::string_view header_block,
                                                   std::string_view authserv_id) {
  std::vector<ByteRange> found;
  HeaderFieldReader reader(header_block);
  while (std::optional<HeaderField> f = reader.next()) {
    if (header_name_is(f->name, kFieldName) && claims_id(f->value, authserv_id)) {
      found.push_back({f->offset, f->size});
    }
  }
  return found;
}

std::string erase_ranges(std::string_view text, std::span<const ByteRange> ranges) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const ByteRange& r : ranges) {
    RM_ASSERT(r.offset >= pos && r.offset <= text.size() && r.size <= text.size() - r.offset);
    out.append(text.substr(pos, r.offset - pos));
    pos = r.offset + r.size;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace rm::mail_auth
