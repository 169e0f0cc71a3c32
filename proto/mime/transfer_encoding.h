// Content-Transfer-Encoding decoders (RFC 2045 §6) for BINARY[], SEARCH and RFC 2047 words.
//
// Both are lenient, as mail readers are: base64 skips bytes outside its alphabet and stops
// at padding; quoted-printable keeps a malformed "=" as it is and drops the trailing
// blanks of each line. The output is never longer than the input.
// Untrusted input: yes. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace rm::mime {

std::string decode_base64_lenient(std::string_view text);

// `q_encoding`: the RFC 2047 "Q" variant, where '_' stands for a space.
std::string decode_quoted_printable(std::string_view text, bool q_encoding = false);

}  // namespace rm::mime
