#include "proto/smtp/client/capabilities.h"

#include <algorithm>
#include <string_view>

namespace rm::smtp {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

// The next space-separated word of `text` (consumed from it); empty at the end.
std::string_view next_word(std::string_view& text) {
  const size_t start = text.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    text = {};
    return {};
  }
  text.remove_prefix(start);
  const size_t end = std::min(text.find(' '), text.size());
  const std::string_view word = text.substr(0, end);
  text.remove_prefix(end);
  return word;
}

// SIZE's parameter: digits only; anything else, or a value that overflows, reads as 0 (no
// limit announced) rather than as a wrong limit.
uint64_t parse_size(std::string_view digits) {
  uint64_t value = 0;
  if (digits.empty() || digits.size() > 19) {
    return 0;
  }
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return 0;
    }
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

void add_mechanisms(std::string_view params, Capabilities& caps) {
  for (std::string_view word = next_word(params); !word.empty(); word = next_word(params)) {
    std::string mechanism = upper(word);
    caps.auth_plain |= mechanism == "PLAIN";
    caps.auth_login |= mechanism == "LOGIN";
    const auto& known = caps.auth_mechanisms;
    if (known.size() < kAuthMechanismsMax &&
        std::find(known.begin(), known.end(), mechanism) == known.end()) {
      caps.auth_mechanisms.push_back(std::move(mechanism));
    }
  }
}

void add_keyword(std::string_view line, Capabilities& caps) {
  std::string_view rest = line;
  std::string keyword = upper(next_word(rest));
  if (keyword.starts_with("AUTH=")) {  // pre-RFC 4954 servers: "AUTH=LOGIN PLAIN"
    add_mechanisms(std::string_view(line).substr(line.find('=') + 1), caps);
    return;
  }
  if (keyword == "AUTH") {
    add_mechanisms(rest, caps);
  } else if (keyword == "SIZE") {
    caps.size = true;
    caps.size_bytes_max = parse_size(next_word(rest));
  } else if (keyword == "PIPELINING") {
    caps.pipelining = true;
  } else if (keyword == "8BITMIME") {
    caps.eightbitmime = true;
  } else if (keyword == "BINARYMIME") {
    caps.binarymime = true;
  } else if (keyword == "SMTPUTF8") {
    caps.smtputf8 = true;
  } else if (keyword == "CHUNKING") {
    caps.chunking = true;
  } else if (keyword == "STARTTLS") {
    caps.starttls = true;
  } else if (keyword == "ENHANCEDSTATUSCODES") {
    caps.enhanced_status_codes = true;
  } else if (keyword == "DSN") {
    caps.dsn = true;
  }
}

}  // namespace

Capabilities parse_ehlo(const ServerReply& reply) {
  Capabilities caps;
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    add_keyword(reply.lines[i], caps);
  }
  return caps;
}

}  // namespace rm::smtp
