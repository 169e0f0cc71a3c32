// RetrySchedule: which queued messages are due when — the queue manager's in-memory
// schedule. A min-heap of (time, id) and a map id -> time; rescheduling pushes a new heap
// entry and the old one is skipped when it surfaces (lazy deletion), so every operation is
// O(log n) and nothing is searched. Per scheduled message: 16 bytes of heap and one map
// node (~40 bytes with its bucket): a queue of a million deferred messages costs ~60 MB.
// Thread-safety: none; one per queue manager, on its shard.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <unordered_map>
#include <vector>

namespace rm {

class RetrySchedule {
 public:
  // Schedules (or moves) `id` to `at_ms`.
  void schedule(uint64_t id, int64_t at_ms) {
    due_[id] = at_ms;
    heap_.push(Entry{at_ms, id});
  }
  // Forgets `id` (it started, or left the queue).
  void erase(uint64_t id) { due_.erase(id); }
  bool contains(uint64_t id) const { return due_.count(id) != 0; }
  size_t size() const { return due_.size(); }

  // The earliest time anything is due, if anything is scheduled.
  std::optional<int64_t> next_due() {
    drop_stale();
    return heap_.empty() ? std::nullopt : std::optional<int64_t>(heap_.top().at_ms);
  }
  // Removes and returns the ids due at or before `now_ms`, earliest first.
  std::vector<uint64_t> take_due(int64_t now_ms) {
    std::vector<uint64_t> out;
    for (drop_stale(); !heap_.empty() && heap_.top().at_ms <= now_ms; drop_stale()) {
      out.push_back(heap_.top().id);
      due_.erase(heap_.top().id);
      heap_.pop();
    }
    return out;
  }
  // Every scheduled id (for "flush everything").
  std::vector<uint64_t> ids() const {
    std::vector<uint64_t> out;
    out.reserve(due_.size());
    for (const auto& [id, at] : due_) {
      out.push_back(id);
    }
    return out;
  }

 private:
  struct Entry {
    int64_t at_ms;
    uint64_t id;
    bool operator>(const Entry& o) const { return at_ms > o.at_ms; }
  };

  // Pops heap entries that no longer match the map (rescheduled or erased).
  void drop_stale() {
    while (!heap_.empty()) {
      auto it = due_.find(heap_.top().id);
      if (it != due_.end() && it->second == heap_.top().at_ms) {
        return;
      }
      heap_.pop();
    }
  }

  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
  std::unordered_map<uint64_t, int64_t> due_;
};

}  // namespace rm
