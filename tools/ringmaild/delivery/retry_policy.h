// RetryPolicy: when a message whose delivery failed temporarily is tried again, and when it
// has been queued too long and bounces (Postfix: minimal_backoff_time, maximal_backoff_time,
// maximal_queue_lifetime).
// Thread-safety: a plain value and pure functions.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/config/options.h"

namespace rm {

struct RetryPolicy {
  int64_t initial_ms = 300000;
  int64_t max_ms = 14400000;
  int64_t lifetime_ms = 432000000;

  static RetryPolicy from(const QueueOptions& q) {
    return {int64_t{q.retry_initial_ms}, int64_t{q.retry_max_ms}, int64_t{q.lifetime_ms}};
  }

  // The wait after the `attempts`-th failed attempt (1-based): initial, doubling, capped.
  int64_t delay_ms(uint32_t attempts) const {
    int64_t delay = initial_ms;
    for (uint32_t i = 1; i < attempts && delay < max_ms; ++i) {
      delay *= 2;
    }
    return std::min(delay, std::max(max_ms, initial_ms));
  }

  bool expired(int64_t received_unix_ms, int64_t now_unix_ms) const {
    return now_unix_ms - received_unix_ms >= lifetime_ms;
  }
};

}  // namespace rm
