// The control-socket commands ringmaild adds to the built-in ones: the queue (list, show,
// delete, hold, release), users and domains, "spf check" and the "dkim" commands
// (dkim_commands.h). Each does its RocksDB and
// password-hashing work on the shard's blocking lane and answers from there; "spf check"
// runs on the shard that took the request, with a Resolver of its own (no cache shared
// with mail traffic, so an operator sees what the DNS says now).
#pragma once

#include <vector>

#include "core/config/options.h"
#include "core/control/control_service.h"
#include "store/body/body_store.h"
#include "tools/ringmaild/delivery/delivery_service.h"
#include "store/db/database.h"

namespace rm {

class SmtpService;

std::vector<ControlCommand> admin_commands(const Options& options, Database& db, BodyStore& bodies,
                                           SmtpService& smtp, DeliveryService& delivery);

}  // namespace rm
