// The "dkim" control-socket commands: keys in the store (keygen, list, del) and signing or
// verifying a message the operator sends (sign, verify), for debugging a delivery.
//
//   dkim keygen DOMAIN SELECTOR [--ed25519]  -> {"name": "SEL._domainkey.DOMAIN", "record": ...}
//   dkim list                                -> {"keys": [{domain, selector, type, name}, ...]}
//   dkim del DOMAIN SELECTOR
//   dkim sign [--domain=DOMAIN]              input: the message, base64 -> {"body": base64}
//   dkim verify                              input: the message, base64 -> {"signatures": [...],
//                                               "authentication_results": "..."}
//
// Key generation, store access, signing and body hashing run on the shard's blocking lane;
// "dkim verify" looks the keys up with a Resolver of its own over relay.dns_servers, as
// "spf check" does. A key change replaces the DkimKeyring snapshot delivery signs with.
// Untrusted input: the message (at most kDkimCommandMessageBytesMax); the arguments come from
// the operator and are checked (check_dkim_key_name).
// Thread-safety: the handlers run on the shard that took the request.
#pragma once

#include <cstddef>
#include <vector>

#include "core/config/options.h"
#include "core/control/control_service.h"
#include "store/db/database.h"
#include "tools/ringmaild/mail_auth/dkim_sign.h"

namespace rm {

inline constexpr size_t kDkimCommandMessageBytesMax = size_t{64} << 20;

void add_dkim_commands(std::vector<ControlCommand>& out, const Options& options, Database& db,
                       DkimKeyring& keyring);

}  // namespace rm
