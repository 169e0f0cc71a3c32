// TimerWheel: per-shard deadlines for many connections, O(1) to set, move or cancel.
//
// A hashed wheel of `kSlots` slots, each `tick_ms` wide; a deadline further away than one
// turn stays in its slot and is checked again on later turns. Nodes are intrusive (they live
// in the object that owns the deadline) and carry an opaque owner id; expire() reports ids,
// not pointers, so a callback that destroys other owners cannot leave dangling nodes behind.
// Thread-safety: owned by one shard thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace rm {

struct TimerNode {
  TimerNode* prev = nullptr;
  TimerNode* next = nullptr;
  int64_t deadline_tick = 0;
  uint64_t owner = 0;
  bool linked() const { return prev != nullptr; }
};

class TimerWheel {
 public:
  static constexpr uint32_t kSlots = 1024;

  TimerWheel(uint32_t tick_ms, int64_t now_ms);
  ~TimerWheel();
  TimerWheel(const TimerWheel&) = delete;
  TimerWheel& operator=(const TimerWheel&) = delete;

  // (Re)schedules `node` to expire at `deadline_ms` (monotonic); rounds up to a tick.
  void schedule(TimerNode& node, int64_t deadline_ms);
  void cancel(TimerNode& node);
  size_t size() const { return size_; }

  // Unlinks every node due at `now_ms` and appends its owner id to `due`.
  void expire(int64_t now_ms, std::vector<uint64_t>& due);
  // When the earliest scheduled node may be due (ms), or nothing when the wheel is empty.
  std::optional<int64_t> next_due_ms() const;
  int64_t tick_to_ms(int64_t tick) const { return tick * tick_ms_; }
  int64_t ms_to_tick_ceil(int64_t ms) const { return (ms + tick_ms_ - 1) / tick_ms_; }

 private:
  void link(TimerNode& node, int64_t slot_tick);
  int64_t scan_next_due_tick() const;
  static void unlink(TimerNode& node);

  const int64_t tick_ms_;
  int64_t current_tick_;  // every tick <= current_tick_ has been expired
  // next_due_ms() scans slots, which is too slow for every loop pass: it remembers its answer
  // until an expiry, and schedule() lowers it. A cancelled node may leave it early: harmless,
  // it costs one wake-up that finds nothing.
  mutable std::optional<int64_t> earliest_tick_;
  mutable bool earliest_valid_ = true;
  size_t size_ = 0;
  std::vector<TimerNode> heads_;  // sentinels of circular lists
};

}  // namespace rm
