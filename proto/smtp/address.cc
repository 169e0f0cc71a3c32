#include "proto/smtp/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "proto/smtp/utf8.h"

namespace rm::smtp {
namespace {

constexpr size_t kLocalMax = 64;
constexpr size_t kDomainMax = 255;
constexpr size_t kLabelMax = 63;

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_atext(unsigned char c, bool utf8) {
  return is_alnum(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr || (utf8 && c >= 0x80);
}

bool has_non_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) {
      return true;
    }
  }
  return false;
}

// Dot-string = Atom *("." Atom)
bool is_dot_string(std::string_view text, bool utf8) {
  if (text.empty() || text.front() == '.' || text.back() == '.') {
    return false;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '.') {
      if (text[i - 1] == '.') {
        return false;
      }
    } else if (!is_atext(c, utf8)) {
      return false;
    }
  }
  return true;
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE. Returns its length, or 0 if malformed.
size_t quoted_string_length(std::string_view text, bool utf8) {
  if (text.empty() || text[0] != '"') {
    return 0;
  }
  for (size_t i = 1; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"') {
      return i + 1;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) {
        return 0;
      }
      const auto escaped = static_cast<unsigned char>(text[++i]);
      if (escaped < 32 || escaped > 126) {
        return 0;
      }
    } else if (!((c >= 32 && c <= 126) || (utf8 && c >= 0x80))) {
      return 0;
    }
  }
  return 0;
}

bool is_address_literal(std::string_view text) {
  if (text.size() < 3 || text.front() != '[' || text.back() != ']') {
    return false;
  }
  const std::string inner(text.substr(1, text.size() - 2));
  unsigned char buf[16];
  if (inner.rfind("IPv6:", 0) == 0) {
    return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
  }
  return inet_pton(AF_INET, inner.c_str(), buf) == 1;
}

bool is_label(std::string_view label, bool utf8) {
  if (label.empty() || label.size() > kLabelMax || label.front() == '-' || label.back() == '-') {
    return false;
  }
  for (unsigned char c : label) {
    if (!is_alnum(c) && c != '-' && !(utf8 && c >= 0x80)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool is_valid_domain(std::string_view domain, bool allow_utf8) {
  if (domain.empty() || domain.size() > kDomainMax) {
    return false;
  }
  if (domain.front() == '[') {
    return is_address_literal(domain);
  }
  if (allow_utf8 && !is_valid_utf8(domain)) {
    return false;
  }
  size_t start = 0;
  for (;;) {
    const size_t dot = domain.find('.', start);
    if (!is_label(domain.substr(start, dot - start), allow_utf8)) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

AddressError parse_mailbox(std::string_view text, bool allow_utf8, Mailbox& out) {
  // Parse as if UTF-8 were allowed, then say precisely why when it is not.
  size_t local_len;
  if (!text.empty() && text[0] == '"') {
    local_len = quoted_string_length(text, true);
  } else {
    local_len = text.find('@');
    if (local_len == std::string_view::npos || !is_dot_string(text.substr(0, local_len), true)) {
      return AddressError::kSyntax;
    }
  }
  if (local_len == 0 || local_len >= text.size() || text[local_len] != '@') {
    return AddressError::kSyntax;
  }
  const std::string_view local = text.substr(0, local_len);
  const std::string_view domain = text.substr(local_len + 1);
  if (!is_valid_utf8(local) || !is_valid_domain(domain, true)) {
    return AddressError::kSyntax;
  }
  if (local.size() > kLocalMax) {
    return AddressError::kLocalTooLong;
  }
  if (domain.size() > kDomainMax) {
    return AddressError::kDomainTooLong;
  }
  const bool utf8 = has_non_ascii(text);
  if (utf8 && !allow_utf8) {
    return AddressError::kNeedsUtf8;
  }
  out.local.assign(local);
  out.domain.assign(domain);
  out.utf8 = utf8;
  return AddressError::kNone;
}

}  // namespace rm::smtp
