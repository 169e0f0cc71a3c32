// QueueId: the identity of a queued message, unique across shards and sorting by arrival.
//
// value = (microseconds since the Unix epoch << 8) | shard, so ids from one shard are unique
// and ordered, ids from different shards never collide, and all of them sort by time. The
// text form (logs, admin commands, Received: headers) is 16 uppercase hex digits, which
// sorts like the value; the store key is the value as 8 big-endian bytes, which does too.
// Thread-safety: QueueId is a value. A QueueIdGenerator belongs to one shard and is used
// only on that shard's thread.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rm {

struct QueueId {
  uint64_t value = 0;

  int shard() const { return static_cast<int>(value & 0xff); }
  int64_t unix_us() const { return static_cast<int64_t>(value >> 8); }
  // 16 uppercase hex digits.
  std::string text() const;
  // 8 bytes, big-endian.
  std::string key() const;

  friend auto operator<=>(const QueueId&, const QueueId&) = default;
};

// Parses the text form: exactly 16 hex digits (either case).
std::optional<QueueId> parse_queue_id(std::string_view text);
// Reads an id from the first 8 bytes of a store key; nullopt when `key` is shorter.
std::optional<QueueId> queue_id_from_key(std::string_view key);

class QueueIdGenerator {
 public:
  explicit QueueIdGenerator(int shard);  // 0 <= shard < 256

  // The next id from the wall clock: strictly greater than every id this generator gave,
  // even when the clock stands still or steps back.
  QueueId next();
  // next() with the clock reading `now_us` (microseconds since the Unix epoch).
  QueueId next_at(int64_t now_us);
  // Makes every later id greater than `id`'s time (e.g. the newest id found in the store at
  // start, in case the clock stepped back across a restart).
  void advance_past(QueueId id);

 private:
  uint64_t shard_;
  int64_t last_us_ = 0;
};

}  // namespace rm
