// QueueId text and key forms, and the per-shard generator.
// Thread-safety: as queue_id.h says (a generator is confined to its shard's thread).
#include "store/queue/queue_id.h"

#include "core/base/clock.h"

#include <algorithm>
#include <ctime>

#include "core/base/assert.h"

namespace rm {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// Ids carry 56 bits of microseconds.
constexpr int64_t kMaxUs = (int64_t{1} << 56) - 1;

}  // namespace

std::string QueueId::text() const {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out(16, '0');
  for (int i = 0; i < 16; ++i) {
    out[static_cast<size_t>(15 - i)] = kDigits[(value >> (4 * i)) & 0xf];
  }
  return out;
}

std::string QueueId::key() const {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) {
    out[static_cast<size_t>(7 - i)] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
  return out;
}

std::optional<QueueId> parse_queue_id(std::string_view text) {
  if (text.size() != 16) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (char c : text) {
    const int digit = hex_value(c);
    if (digit < 0) {
      return std::nullopt;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return QueueId{value};
}

std::optional<QueueId> queue_id_from_key(std::string_view key) {
  if (key.size() < 8) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(key[i]);
  }
  return QueueId{value};
}

QueueIdGenerator::QueueIdGenerator(int shard) : shard_(static_cast<uint64_t>(shard)) {
  RM_ASSERT(shard >= 0 && shard < 256);
}

QueueId QueueIdGenerator::next() {
  return next_at(unix_us());
}

QueueId QueueIdGenerator::next_at(int64_t now_us) {
  last_us_ = std::max(std::clamp<int64_t>(now_us, 0, kMaxUs), last_us_ + 1);
  RM_ASSERT(last_us_ <= kMaxUs);
  return QueueId{(static_cast<uint64_t>(last_us_) << 8) | shard_};
}

void QueueIdGenerator::advance_past(QueueId id) {
  last_us_ = std::max(last_us_, id.unix_us());
}

}  // namespace rm
