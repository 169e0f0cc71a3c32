// The POP3 side of ringmaild: one Pop3Connection per client connection on the POP3
// listeners (STLS on "pop3", implicit TLS on "pop3s"). proto/pop3's session speaks the
// protocol; this drives it: logins through the AccessService, the maildrop (the INBOX as it
// was at login) from the AccountHub of the account's owner shard, where the connection
// moves after login, and deletions applied at QUIT only.
//
// SECURITY: serves any client that reaches the port; logins only over TLS unless
// access.plaintext_auth_allowed; failed logins are throttled per client IP.
#pragma once

#include <memory>

#include "core/reactor/connection.h"

namespace rm {

class AccessService;

std::unique_ptr<ConnectionHandler> make_pop3_connection(AccessService& service, bool implicit_tls,
                                                        Connection& conn);

}  // namespace rm
