// The queue's key layout in the database.
//
//   queue family: QueueId::key() (8 bytes, big-endian)            -> encode_envelope(...)
//   blob family:  QueueId::key() + chunk index (4 bytes, big-endian) -> body bytes
//
// Big-endian keys make a prefix scan list the queue in id (arrival) order and a message's
// chunks in index order.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/queue/queue_id.h"

namespace rm::queue_keys {

inline constexpr size_t kEnvelopeKeySize = 8;
inline constexpr size_t kChunkKeySize = 12;

inline std::string envelope_key(QueueId id) {
  return id.key();
}

// Every chunk key of `id` starts with this.
inline std::string chunk_prefix(QueueId id) {
  return id.key();
}

inline std::string chunk_key(QueueId id, uint32_t index) {
  std::string key = id.key();
  for (int shift = 24; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((index >> shift) & 0xff));
  }
  return key;
}

// The chunk index of a blob-family key; nullopt when the key is not 12 bytes long.
inline std::optional<uint32_t> chunk_index(std::string_view key) {
  if (key.size() != kChunkKeySize) {
    return std::nullopt;
  }
  uint32_t index = 0;
  for (size_t i = kEnvelopeKeySize; i < kChunkKeySize; ++i) {
    index = (index << 8) | static_cast<unsigned char>(key[i]);
  }
  return index;
}

}  // namespace rm::queue_keys
