#include "tools/ringmaild/auth_throttle.h"

#include <algorithm>

namespace rm {

AuthThrottle::Entry& AuthThrottle::current(const std::string& ip, int64_t now_ms) {
  if (entries_.size() >= kEntriesMax && entries_.find(ip) == entries_.end()) {
    std::erase_if(entries_, [&](const auto& kv) { return now_ms - kv.second.window_start_ms > window_ms_; });
    if (entries_.size() >= kEntriesMax) {
      entries_.clear();  // a flood of distinct addresses: forget rather than grow
    }
  }
  Entry& e = entries_[ip];
  if (now_ms - e.window_start_ms > window_ms_) {
    e = Entry{0, now_ms};
  }
  return e;
}

uint32_t AuthThrottle::delay_ms(const std::string& ip, int64_t now_ms) {
  const Entry& e = current(ip, now_ms);
  if (e.failures <= before_delay_) {
    return 0;  // the first few failures are typos, answered at once
  }
  return std::min<uint32_t>(1000 * (e.failures - before_delay_), 5000);
}

bool AuthThrottle::refused(const std::string& ip, int64_t now_ms) {
  return current(ip, now_ms).failures >= max_;
}

void AuthThrottle::record_failure(const std::string& ip, int64_t now_ms) {
  ++current(ip, now_ms).failures;
}

}  // namespace rm
