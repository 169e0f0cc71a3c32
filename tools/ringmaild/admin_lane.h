// Admin commands that touch the store run on the blocking lane of the shard that received
// them (RocksDB is never called on a reactor thread) and answer back on that shard.
// Thread-safety: call on a shard thread; `job` runs on its lane.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "core/control/control_service.h"
#include "core/reactor/shard.h"

namespace rm {

// Runs `job` (returning the JSON answer) on the shard's blocking lane; answers on the shard.
template <typename Job>
void on_lane(Shard& shard, ControlReply reply, Job job) {
  auto shared_reply = std::make_shared<ControlReply>(std::move(reply));
  Shard* s = &shard;
  Status st = shard.run_blocking([s, shared_reply, job = std::move(job)]() mutable {
    std::string json = job();
    s->complete_from_lane([shared_reply, json = std::move(json)] { (*shared_reply)(json); });
  });
  if (!st.ok()) {
    (*shared_reply)(json_error("server busy: " + std::string(st.message())));
  }
}

}  // namespace rm
