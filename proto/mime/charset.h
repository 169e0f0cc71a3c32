// Conversion of the common mail charsets to UTF-8, for SEARCH and decoded header values.
//
// Known: utf-8, us-ascii, iso-8859-1 (latin1) and windows-1252 (cp1252), with their usual
// aliases, case-insensitive. UTF-8 and US-ASCII are passed through unchanged (not validated).
// Untrusted input: yes (the charset name and the bytes). Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace rm::mime {

bool charset_known(std::string_view charset);

// The bytes as UTF-8, or nullopt when the charset is not one of the known ones.
std::optional<std::string> charset_to_utf8(std::string_view charset, std::string_view bytes);

}  // namespace rm::mime
