// Capabilities: what a server's EHLO reply announces (RFC 5321 §4.1.1.1), as a struct.
//
// The first line is the server's name and greeting; each later line is one keyword with
// optional parameters. Keywords are case-insensitive; unknown ones are ignored. SIZE's
// number (RFC 1870) is kept; a missing or unreadable number means no limit announced.
// AUTH mechanisms (RFC 4954, and the old "AUTH=" form) are kept upper-cased, at most
// kAuthMechanismsMax of them; PLAIN and LOGIN are flagged wherever they appear.
// Thread-safety: a value; parse_ehlo is a pure function.
// Untrusted input: yes — the reply's text comes from the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "proto/smtp/client/reply_parser.h"

namespace rm::smtp {

inline constexpr size_t kAuthMechanismsMax = 32;

struct Capabilities {
  bool pipelining = false;             // RFC 2920
  bool size = false;                   // RFC 1870: SIZE= may be given with MAIL
  uint64_t size_bytes_max = 0;         // SIZE's number; 0 = no limit announced
  bool eightbitmime = false;           // RFC 6152
  bool binarymime = false;             // RFC 3030
  bool smtputf8 = false;               // RFC 6531
  bool chunking = false;               // RFC 3030: BDAT
  bool starttls = false;               // RFC 3207
  bool enhanced_status_codes = false;  // RFC 2034
  bool dsn = false;                    // RFC 3461: RET, ENVID, NOTIFY, ORCPT
  bool auth_plain = false;             // RFC 4616
  bool auth_login = false;
  std::vector<std::string> auth_mechanisms;  // every AUTH mechanism, upper-cased, in order
};

// REQUIRES: `reply` is the positive reply to EHLO.
Capabilities parse_ehlo(const ServerReply& reply);

}  // namespace rm::smtp
