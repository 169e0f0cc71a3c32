// RFC 5322 address lists as IMAP ENVELOPE needs them (RFC 9051 §7.5.2).
//
//   parse_address_list("Joe <joe@example.org>, team: a@b.c;", 1000)
//     -> {"Joe", -, "joe", "example.org"}, {-, -, "team", -} (group start),
//        {-, -, "a", "b.c"}, {-, -, -, -} (group end)
//
// Lenient: display names of atoms and quoted strings (joined by one space, quotes and
// escapes removed, encoded words kept as written), comments skipped (a comment after a
// bare addr-spec becomes its name, as Dovecot does), route-addrs ("<@a,@b:x@y>" gives the
// adl "@a,@b"), a missing domain gives no host, a missing ">" or ";" is forgiven.
// Local parts and domains are kept as written (a quoted local part keeps its quotes).
// Untrusted input: yes. At most `addresses_max` entries (group markers included).
// Thread-safety: pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rm::mime {

// One ENVELOPE address: (name adl mailbox host); nullopt is NIL.
struct ImapAddress {
  std::optional<std::string> name;
  std::optional<std::string> adl;
  std::optional<std::string> mailbox;
  std::optional<std::string> host;
  bool operator==(const ImapAddress&) const = default;
};

std::vector<ImapAddress> parse_address_list(std::string_view value, size_t addresses_max);

}  // namespace rm::mime
