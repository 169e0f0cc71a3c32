// Memory of the queue manager's schedule per deferred message: schedules N messages (ids and
// retry times as a real queue would have them: increasing ids, times spread over 4 hours,
// every message rescheduled once as a retry would) in a RetrySchedule and reports the
// growth of the process's resident memory per message. Target: at most 300 bytes.
//
//   build/release/bench/rm_deferred_memory [N]     (default 1000000)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

#include "tools/ringmaild/delivery/retry_schedule.h"

namespace {

long resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0;
  long pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * sysconf(_SC_PAGESIZE);
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000000;
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> spread(0, 4LL * 3600 * 1000);
  const int64_t now = 1'800'000'000'000;
  const long before = resident_bytes();
  rm::RetrySchedule schedule;
  uint64_t id = uint64_t{1'800'000'000'000'000} << 8;
  for (long i = 0; i < n; ++i) {
    id += 256 * 37;
    schedule.schedule(id, now + spread(rng));
  }
  const long after_first = resident_bytes();
  // A retry moves every message once more (the stale heap entries stay until they surface).
  id = uint64_t{1'800'000'000'000'000} << 8;
  for (long i = 0; i < n; ++i) {
    id += 256 * 37;
    schedule.schedule(id, now + 4LL * 3600 * 1000 + spread(rng));
  }
  const long after_retry = resident_bytes();
  std::printf("messages=%ld scheduled=%zu bytes_per_message=%.1f after_one_reschedule=%.1f\n", n,
              schedule.size(), double(after_first - before) / double(n),
              double(after_retry - before) / double(n));
  return schedule.size() == static_cast<size_t>(n) ? 0 : 1;
}
