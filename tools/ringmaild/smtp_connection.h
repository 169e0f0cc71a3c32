// One SMTP connection of ringmaild: binds a pure smtp::ServerSession to its Connection,
// carries out what the session asks (commit a message, start TLS, check a password) and
// answers it.
#pragma once

#include <memory>

#include "core/reactor/connection.h"
#include "tools/ringmaild/smtp_service.h"

namespace rm {

std::unique_ptr<ConnectionHandler> make_smtp_connection(SmtpService& service, SmtpPort port,
                                                        Connection& conn);

}  // namespace rm
