#include "proto/spf/macro.h"

#include <arpa/inet.h>

#include <algorithm>
#include <vector>

namespace rm::spf {
namespace {

// A digit transformer larger than this keeps every part (a name has at most 127 labels).
constexpr size_t kPartsKeepMax = 128;

struct MacroSpec {
  char letter = 0;  // lower case
  bool escape = false;
  size_t keep = 0;  // 0: all parts
  bool reverse = false;
  std::string_view delimiters = ".";
};

bool is_delimiter(char c) {
  return c == '.' || c == '-' || c == '+' || c == ',' || c == '/' || c == '_' || c == '=';
}

bool macro_letter_allowed(char lower, MacroMode mode) {
  switch (lower) {
    case 's':
    case 'l':
    case 'o':
    case 'd':
    case 'i':
    case 'p':
    case 'v':
    case 'h':
      return true;
    case 'c':
    case 'r':
    case 't':
      return mode == MacroMode::kExplanation;
    default:
      return false;
  }
}

// Reads "{letter digits r delimiters}" starting after the '%'; `pos` ends after the '}'.
Result<MacroSpec> read_macro(std::string_view text, size_t& pos, MacroMode mode) {
  MacroSpec spec;
  if (pos >= text.size() || text[pos] != '{' || pos + 1 >= text.size()) {
    return Status::InvalidArgument("bad macro");
  }
  ++pos;
  const char letter = text[pos++];
  spec.letter = static_cast<char>(letter >= 'A' && letter <= 'Z' ? letter - 'A' + 'a' : letter);
  spec.escape = letter >= 'A' && letter <= 'Z';
  if (!macro_letter_allowed(spec.letter, mode)) {
    return Status::InvalidArgument("unknown macro letter '" + std::string(1, letter) + "'");
  }
  bool digits = false;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    spec.keep = std::min(spec.keep * 10 + static_cast<size_t>(text[pos] - '0'), kPartsKeepMax);
    digits = true;
    ++pos;
  }
  if (digits && spec.keep == 0) {
    return Status::InvalidArgument("macro keeps zero parts");
  }
  if (pos < text.size() && (text[pos] == 'r' || text[pos] == 'R')) {
    spec.reverse = true;
    ++pos;
  }
  const size_t delimiters = pos;
  while (pos < text.size() && is_delimiter(text[pos])) {
    ++pos;
  }
  if (pos > delimiters) {
    spec.delimiters = text.substr(delimiters, pos - delimiters);
  }
  if (pos >= text.size() || text[pos] != '}') {
    return Status::InvalidArgument("unterminated macro");
  }
  ++pos;
  return spec;
}

bool literal_allowed(char c, MacroMode mode) {
  return (c >= 0x21 && c <= 0x7e && c != '%') || (c == ' ' && mode == MacroMode::kExplanation);
}

std::string ip_text(const IpAddress& ip) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), text, sizeof text);
  return text;
}

std::string macro_value(char letter, const MacroContext& c) {
  switch (letter) {
    case 's':
      return std::string(c.sender);
    case 'l':
      return std::string(c.local_part);
    case 'o':
      return std::string(c.sender_domain);
    case 'd':
      return std::string(c.domain);
    case 'i':
      return ip_macro_text(c.ip);
    case 'p':
      return std::string(c.validated_name);
    case 'v':
      return c.ip.v6 ? "ip6" : "in-addr";
    case 'h':
      return std::string(c.helo);
    case 'c':
      return ip_text(c.ip);
    case 'r':
      return c.receiver.empty() ? "unknown" : std::string(c.receiver);
    case 't':
      return std::to_string(c.now_unix_s);
    default:
      return "";
  }
}

// §7.3: split on the delimiters, maybe reverse, keep the rightmost parts, join with '.'.
std::string transform(std::string_view value, const MacroSpec& spec) {
  if (spec.keep == 0 && !spec.reverse && spec.delimiters == ".") {
    return std::string(value);
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || spec.delimiters.find(value[i]) != std::string_view::npos) {
      parts.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (spec.reverse) {
    std::reverse(parts.begin(), parts.end());
  }
  const size_t first = spec.keep == 0 || spec.keep >= parts.size() ? 0 : parts.size() - spec.keep;
  std::string out;
  for (size_t i = first; i < parts.size(); ++i) {
    out += (i > first ? "." : "");
    out += parts[i];
  }
  return out;
}

// RFC 3986 unreserved characters stay; everything else becomes %XX.
std::string url_escape(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// Walks `text`, calling literal(string_view) and macro(const MacroSpec&) for each piece.
template <typename Literal, typename Macro>
Status walk(std::string_view text, MacroMode mode, Literal literal, Macro macro) {
  size_t pos = 0;
  while (pos < text.size()) {
    const char c = text[pos];
    if (c != '%') {
      if (!literal_allowed(c, mode)) {
        return Status::InvalidArgument("character not allowed in a macro string");
      }
      RM_RETURN_IF_ERROR(literal(text.substr(pos, 1)));
      ++pos;
      continue;
    }
    if (++pos >= text.size()) {
      return Status::InvalidArgument("'%' at the end of a macro string");
    }
    const char next = text[pos];
    if (next == '%' || next == '_' || next == '-') {
      ++pos;
      RM_RETURN_IF_ERROR(literal(next == '%' ? "%" : next == '_' ? " " : "%20"));
      continue;
    }
    Result<MacroSpec> spec = read_macro(text, pos, mode);
    if (!spec.ok()) {
      return spec.status();
    }
    RM_RETURN_IF_ERROR(macro(*spec));
  }
  return Status::Ok();
}

}  // namespace

Status check_macro_string(std::string_view text, MacroMode mode) {
  return walk(
      text, mode, [](std::string_view) { return Status::Ok(); },
      [](const MacroSpec&) { return Status::Ok(); });
}

Result<std::string> expand_macro_string(std::string_view text, const MacroContext& context,
                                        MacroMode mode) {
  std::string out;
  auto append = [&out](std::string_view piece) {
    if (out.size() + piece.size() > kExpansionBytesMax) {
      return Status::InvalidArgument("macro expansion too long");
    }
    out.append(piece);
    return Status::Ok();
  };
  Status st = walk(text, mode, append, [&](const MacroSpec& spec) {
    std::string value = transform(macro_value(spec.letter, context), spec);
    return append(spec.escape ? url_escape(value) : value);
  });
  if (!st.ok()) {
    return st;
  }
  return out;
}

bool uses_macro(std::string_view text, char letter) {
  bool found = false;
  Status st = walk(
      text, MacroMode::kExplanation, [](std::string_view) { return Status::Ok(); },
      [&](const MacroSpec& spec) {
        found = found || spec.letter == letter;
        return Status::Ok();
      });
  return st.ok() && found;
}

std::string ip_macro_text(const IpAddress& ip) {
  if (!ip.v6) {
    return ip_text(ip);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    out += (i > 0 ? "." : "");
    out += kHex[ip.bytes[i] >> 4];
    out += '.';
    out += kHex[ip.bytes[i] & 0xf];
  }
  return out;
}

std::string reverse_name(const IpAddress& ip) {
  const MacroSpec reversed{'i', false, 0, true, "."};
  return transform(ip_macro_text(ip), reversed) + (ip.v6 ? ".ip6.arpa" : ".in-addr.arpa");
}

}  // namespace rm::spf
