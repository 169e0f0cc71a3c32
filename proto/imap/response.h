// Writing IMAP response data: strings as quoted strings or literals, nstrings and astrings.
// (Flag lists: flags.h; dates: date_time.h; sequence sets: sequence_set.h.)
//
//   std::string out = "* LIST () \"/\" ";
//   rm::imap::append_astring(out, name);   // INBOX, "My Box" or {7}\r\nline\r\n1
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace rm::imap {

// Strings longer than this are sent as literals even when they could be quoted.
inline constexpr size_t kQuotedBytesMax = 1024;

// `"..."` with `\\` and `\"` escapes, or a literal `{n}\r\n...` when the text holds CR, LF or
// NUL or is longer than kQuotedBytesMax. With `utf8` false (rev1 client without UTF8=ACCEPT)
// 8-bit text also goes into a literal.
void append_string(std::string& out, std::string_view text, bool utf8 = true);
// NIL for nullopt, else append_string().
void append_nstring(std::string& out, std::optional<std::string_view> text, bool utf8 = true);
// An atom when the text is a non-empty atom that is not "NIL", else append_string().
void append_astring(std::string& out, std::string_view text, bool utf8 = true);

}  // namespace rm::imap
