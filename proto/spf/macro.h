// SPF macro strings (RFC 7208 §7): checking their syntax and expanding them.
//
//   spf::MacroContext ctx{.sender = "strong-bad@email.example.com", ...};
//   Result<std::string> name = spf::expand_macro_string("%{ir}.%{v}._spf.%{d2}", ctx,
//                                                       spf::MacroMode::kDomainSpec);
//
// Macros: s l o d i p v h, plus c r t in explanations only; a digit count and "r" reverse
// the dot-split parts, delimiters (. - + , / _ =) choose where to split; an upper-case
// letter URL-escapes the value (§7.3). "%%", "%_", "%-" are '%', ' ', "%20". Anything else
// after a '%' is a syntax error. `p` needs DNS work, which the caller does first: it passes
// the validated name, or "unknown".
// Untrusted input: yes — macro strings come from DNS records, values from the SMTP client.
// Expansions are bounded by kExpansionBytesMax.
// Thread-safety: pure functions over values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/net/cidr.h"

namespace rm::spf {

constexpr size_t kExpansionBytesMax = 8192;

enum class MacroMode : uint8_t {
  kDomainSpec,   // domain-spec and modifier values: no spaces; no c, r, t
  kExplanation,  // the exp= TXT record's text: spaces and c, r, t allowed
};

struct MacroContext {
  std::string_view sender;                      // s: "local@domain"
  std::string_view local_part;                  // l
  std::string_view sender_domain;               // o
  std::string_view domain;                      // d: the domain being checked now
  IpAddress ip;                                 // i, c, v (IPv4-mapped IPv6 already made IPv4)
  std::string_view validated_name = "unknown";  // p
  std::string_view helo;                        // h
  std::string_view receiver;                    // r ("unknown" when empty)
  int64_t now_unix_s = 0;                       // t
};

// OK when `text` is a well-formed macro string for `mode`.
Status check_macro_string(std::string_view text, MacroMode mode);

// Expands `text`; fails on bad syntax or an expansion past kExpansionBytesMax.
Result<std::string> expand_macro_string(std::string_view text, const MacroContext& context,
                                        MacroMode mode);

// True when `text` uses macro `letter` (lower case; either case matches).
bool uses_macro(std::string_view text, char letter);

// The %{i} form: dotted quad, or 32 dot-separated lower-case nibbles for IPv6.
std::string ip_macro_text(const IpAddress& ip);
// The reverse-lookup name: "4.3.2.1.in-addr.arpa" or the ip6.arpa nibble name.
std::string reverse_name(const IpAddress& ip);

}  // namespace rm::spf
