// Header values for SEARCH: unfolding and RFC 2047 encoded words ("=?utf-8?Q?caf=C3=A9?=").
//
//   decode_header_value(" =?iso-8859-1?q?caf=E9?= au lait") == "café au lait"
//
// B and Q encodings; charsets utf-8, us-ascii, iso-8859-1 and windows-1252 become UTF-8.
// A word in another charset, or malformed, stays as written. The blanks between two
// adjacent encoded words are dropped (RFC 2047 §6.2). An RFC 2231 language suffix in the
// charset ("utf-8*en") is ignored.
// Untrusted input: yes. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace rm::mime {

std::string decode_header_value(std::string_view raw);

}  // namespace rm::mime
