// The control-socket commands ringmaild adds to the built-in ones: the queue (list, show,
// delete, hold, release), users and domains. Each does its RocksDB and password-hashing
// work on the shard's blocking lane and answers from there.
#pragma once

#include <vector>

#include "core/control/control_service.h"
#include "store/body/body_store.h"
#include "tools/ringmaild/delivery/delivery_service.h"
#include "store/db/database.h"

namespace rm {

class SmtpService;

std::vector<ControlCommand> admin_commands(Database& db, BodyStore& bodies, SmtpService& smtp,
                                           DeliveryService& delivery);

}  // namespace rm
