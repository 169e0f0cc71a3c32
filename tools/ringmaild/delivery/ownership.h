// Which shard owns what (DESIGN §1): computed, never stored, so a restart with another
// shard count still works. An account belongs to hash(account) % shards; a queued message
// to the shard that accepted it (its id's shard, modulo the shards there are now).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "store/queue/queue_id.h"

namespace rm {

// FNV-1a: stable across builds and platforms (std::hash is not).
inline uint64_t stable_hash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h = (h ^ c) * 1099511628211ull;
  }
  return h;
}

inline int account_owner(std::string_view account, int shards) {
  return static_cast<int>(stable_hash(account) % static_cast<uint64_t>(shards));
}

inline int message_owner(QueueId id, int shards) {
  return id.shard() % shards;
}

}  // namespace rm
