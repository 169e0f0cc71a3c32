#include "core/services/fixed_reply.h"

#include <memory>

namespace rm {

HandlerFactory FixedReply::factory(std::string reply) {
  auto shared = std::make_shared<const std::string>(std::move(reply));
  return [shared](Connection&) { return std::make_unique<FixedReply>(*shared); };
}

void FixedReply::on_open(Connection& conn) {
  conn.write(reply_);
  conn.close_after_flush();
}

}  // namespace rm
