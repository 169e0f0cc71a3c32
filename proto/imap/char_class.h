// The character classes of the IMAP grammar (RFC 9051 §9) that the parser, the command
// reader and the response writer share.
// Thread-safety: pure functions.
#pragma once

namespace rm::imap {

// ATOM-CHAR: any 7-bit CHAR except the atom-specials ( ) { SP CTL % * " \ ]
constexpr bool is_atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7F) {
    return false;
  }
  switch (c) {
    case '(':
    case ')':
    case '{':
    case '%':
    case '*':
    case '"':
    case '\\':
    case ']':
      return false;
    default:
      return true;
  }
}

// ASTRING-CHAR, 7-bit only: ATOM-CHAR or "]".
constexpr bool is_astring_char7(char c) { return is_atom_char(c) || c == ']'; }

// A tag's characters: ASTRING-CHAR except "+".
constexpr bool is_tag_char(char c) { return is_astring_char7(c) && c != '+'; }

}  // namespace rm::imap
