// The IMAP side of ringmaild: one ImapConnection per client connection on the IMAP
// listeners (STARTTLS on "imap", implicit TLS on "imaps"). It frames and parses commands
// with proto/imap, runs them against the account's mailboxes through the AccountHub of the
// shard that owns the account (the connection moves there after login), and reports other
// sessions' changes (new mail, flags, expunges) as untagged responses — at once while the
// client IDLEs.
//
// SECURITY: serves any client that reaches the port; logins only over TLS unless
// access.plaintext_auth_allowed; every size and count a client sends is bounded (proto/imap
// limits, access.append_bytes_max, access.errors_max).
#pragma once

#include <memory>

#include "core/reactor/connection.h"

namespace rm {

class AccessService;

std::unique_ptr<ConnectionHandler> make_imap_connection(AccessService& service, bool implicit_tls,
                                                        Connection& conn);

}  // namespace rm
