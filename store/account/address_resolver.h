// Address resolution for local delivery: what a recipient address of a local domain stands
// for — mailboxes in the store, Maildir or mbox files, or addresses elsewhere (forwarding) —
// after aliases, plus-addressing and catch-alls, the way Postfix's virtual(5)/local(8)
// users would expect:
//   1. an alias for the exact address wins (an alias that lists its own address also
//      delivers to that account, e.g. "bob@d -> bob@d, bob@elsewhere" keeps a copy);
//   2. then an account with that address;
//   3. then user+tag@domain without the tag (steps 1 and 2 again);
//   4. then the domain's catch-all alias "@domain".
// Targets are expanded again (alias chains), at most kAliasDepthMax deep; loops end there.
// Thread-safety: pure functions over an immutable Directory snapshot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/account/directory.h"

namespace rm {

inline constexpr int kAliasDepthMax = 10;
inline constexpr size_t kExpansionTargetsMax = 1000;

struct DeliveryTarget {
  enum class Kind : uint8_t { kMailbox, kMaildir, kMbox, kRemote };
  Kind kind = Kind::kMailbox;
  std::string address;  // the account (kMailbox/kMaildir/kMbox) or the remote address
  std::string path;     // kMaildir/kMbox: the expanded path

  friend bool operator==(const DeliveryTarget&, const DeliveryTarget&) = default;
};

// The domain part of an address, lower case ("" when there is no '@').
std::string domain_of(std::string_view address);
// Whether `address` is in a local domain.
bool is_local_address(const Directory& dir, std::string_view address);

// What `address` (any case) delivers to; empty when it is in a local domain but unknown
// (the caller answers 550 5.1.1). A non-local address resolves to itself as kRemote.
std::vector<DeliveryTarget> resolve_address(const Directory& dir, std::string_view address);

// "maildir:/srv/%d/%u" for bob@example.org -> "/srv/example.org/bob".
std::string expand_delivery_path(std::string_view path_template, std::string_view address);

}  // namespace rm
