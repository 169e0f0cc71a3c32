// Parsing of RFC 5321 paths and mailboxes, with RFC 6531 (SMTPUTF8) UTF-8 when allowed.
//
//   Path     = "<" [ A-d-l ":" ] Mailbox ">"      (source routes are accepted and dropped)
//   Mailbox  = Local-part "@" ( Domain / address-literal )
//   Local-part = Dot-string / Quoted-string
//
// Limits (RFC 5321 §4.5.3.1): local part 64 octets, domain 255, path 256.
// Untrusted input: yes — every byte of MAIL FROM and RCPT TO.
#pragma once

#include <string>
#include <string_view>

namespace rm::smtp {

struct Mailbox {
  std::string local;   // as sent (quoted form kept quoted)
  std::string domain;  // as sent; address literals keep their brackets
  bool utf8 = false;   // contains non-ASCII (needs SMTPUTF8)
  std::string address() const { return local + "@" + domain; }
};

enum class AddressError {
  kNone,
  kSyntax,          // not a path at all
  kLocalTooLong,    // > 64 octets
  kDomainTooLong,   // > 255 octets
  kPathTooLong,     // > 256 octets
  kNeedsUtf8,       // non-ASCII without SMTPUTF8
};

// Parses a Mailbox (no angle brackets). `allow_utf8`: RFC 6531 UTF-8 in local part and domain.
AddressError parse_mailbox(std::string_view text, bool allow_utf8, Mailbox& out);

// Checks a domain name (RFC 5321 Domain) or an address literal ("[1.2.3.4]", "[IPv6:...]").
bool is_valid_domain(std::string_view domain, bool allow_utf8);

}  // namespace rm::smtp
