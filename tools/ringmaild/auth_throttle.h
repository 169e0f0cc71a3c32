// AuthThrottle: failed AUTH attempts per client IP within a window — after a few, replies
// are slowed down; after more, the client is refused outright (Postfix's anvil does the
// same job). One per shard; SO_REUSEPORT spreads a client over shards, so each shard
// counts what it sees.
// Thread-safety: one shard.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace rm {

class AuthThrottle {
 public:
  AuthThrottle(uint32_t before_delay, uint32_t max, uint32_t window_ms)
      : before_delay_(before_delay), max_(max), window_ms_(window_ms) {}

  // How long to hold the reply to a failed attempt (0: at once).
  uint32_t delay_ms(const std::string& ip, int64_t now_ms);
  bool refused(const std::string& ip, int64_t now_ms);
  void record_failure(const std::string& ip, int64_t now_ms);

 private:
  struct Entry {
    uint32_t failures = 0;
    int64_t window_start_ms = 0;
  };
  Entry& current(const std::string& ip, int64_t now_ms);

  static constexpr size_t kEntriesMax = 100000;  // bound the table; oldest windows go first
  uint32_t before_delay_;
  uint32_t max_;
  uint32_t window_ms_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace rm
