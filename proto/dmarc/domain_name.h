// Domain names as DMARC compares them: normalised (ASCII lower case, no trailing dot) and
// checked for shape (RFC 1035 lengths: a name of at most 253 octets, labels of 1..63 octets).
//
//   Result<std::string> d = normalize_domain("Mail.Example.COM.");   // "mail.example.com"
//
// Labels may hold letters, digits, '-', '_' and UTF-8 bytes (internationalised names are
// compared as given; no IDNA mapping is done). Anything else (spaces, '@', brackets of an
// address literal) is refused.
// Untrusted input: yes (domains from headers and SMTP). Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm::dmarc {

inline constexpr size_t kDomainBytesMax = 253;
inline constexpr size_t kLabelBytesMax = 63;

Result<std::string> normalize_domain(std::string_view domain);

// ASCII case-insensitive equality, ignoring one trailing dot on either side.
bool domains_equal(std::string_view a, std::string_view b);

// Punycode (RFC 3492) A-label of one label: "bücher" -> "xn--bcher-kva". An all-ASCII label
// is returned as is. Fails on invalid UTF-8 or a result longer than kLabelBytesMax.
Result<std::string> label_to_ascii(std::string_view utf8_label);

}  // namespace rm::dmarc
