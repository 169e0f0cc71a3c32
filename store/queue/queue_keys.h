// The queue's key layout in the database.
//
//   queue family: QueueId::key() (8 bytes, big-endian) -> encode_envelope(...)
//
// Big-endian keys make a prefix scan list the queue in id (arrival) order. Bodies live in
// the BodyStore's segment files; the envelope lists their extents.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>

#include "store/queue/queue_id.h"

namespace rm::queue_keys {

inline constexpr size_t kEnvelopeKeySize = 8;

inline std::string envelope_key(QueueId id) {
  return id.key();
}

}  // namespace rm::queue_keys
