#include "core/reactor/timer_wheel.h"

#include <algorithm>

#include "core/base/assert.h"

namespace rm {

TimerWheel::TimerWheel(uint32_t tick_ms, int64_t now_ms)
    : tick_ms_(tick_ms), current_tick_(now_ms / tick_ms), heads_(kSlots) {
  RM_ASSERT(tick_ms > 0);
  for (TimerNode& head : heads_) {
    head.prev = &head;
    head.next = &head;
  }
}

TimerWheel::~TimerWheel() {
  for (TimerNode& head : heads_) {
    while (head.next != &head) {
      unlink(*head.next);
    }
  }
}

void TimerWheel::link(TimerNode& node, int64_t slot_tick) {
  TimerNode& head = heads_[static_cast<size_t>(slot_tick) % kSlots];
  node.prev = head.prev;
  node.next = &head;
  head.prev->next = &node;
  head.prev = &node;
}

void TimerWheel::unlink(TimerNode& node) {
  node.prev->next = node.next;
  node.next->prev = node.prev;
  node.prev = nullptr;
  node.next = nullptr;
}

void TimerWheel::schedule(TimerNode& node, int64_t deadline_ms) {
  if (node.linked()) {
    unlink(node);
    --size_;
  }
  node.deadline_tick = ms_to_tick_ceil(deadline_ms);
  // A deadline already past goes in the next slot to be expired.
  const int64_t slot_tick = std::max(node.deadline_tick, current_tick_ + 1);
  link(node, slot_tick);
  ++size_;
  if (earliest_valid_ && (!earliest_tick_ || slot_tick < *earliest_tick_)) {
    earliest_tick_ = slot_tick;
  }
}

void TimerWheel::cancel(TimerNode& node) {
  if (node.linked()) {
    unlink(node);
    --size_;
  }
}

void TimerWheel::expire(int64_t now_ms, std::vector<uint64_t>& due) {
  const int64_t now_tick = now_ms / tick_ms_;
  if (now_tick <= current_tick_) {
    return;
  }
  // After a long stall one full turn visits every slot; more turns would find nothing new.
  const int64_t first = std::max(current_tick_ + 1, now_tick - int64_t{kSlots} + 1);
  for (int64_t tick = first; tick <= now_tick; ++tick) {
    TimerNode& head = heads_[static_cast<size_t>(tick) % kSlots];
    TimerNode* node = head.next;
    while (node != &head) {
      TimerNode* next = node->next;
      if (node->deadline_tick <= now_tick) {
        unlink(*node);
        --size_;
        due.push_back(node->owner);
      }
      node = next;
    }
  }
  current_tick_ = now_tick;
  earliest_valid_ = false;
}

std::optional<int64_t> TimerWheel::next_due_ms() const {
  if (size_ == 0) {
    return std::nullopt;
  }
  if (earliest_valid_ && earliest_tick_ && *earliest_tick_ > current_tick_) {
    return tick_to_ms(*earliest_tick_);
  }
  earliest_valid_ = true;
  earliest_tick_ = scan_next_due_tick();
  return tick_to_ms(*earliest_tick_);
}

int64_t TimerWheel::scan_next_due_tick() const {
  for (int64_t tick = current_tick_ + 1; tick <= current_tick_ + kSlots; ++tick) {
    const TimerNode& head = heads_[static_cast<size_t>(tick) % kSlots];
    if (head.next != &head) {
      return tick;
    }
  }
  RM_ASSERT_MSG(false, "timer wheel size_ is positive but every slot is empty");
  return current_tick_ + 1;
}

}  // namespace rm
