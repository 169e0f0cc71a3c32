// SpscQueue<T>: a bounded, lock-free single-producer/single-consumer ring.
//
// Thread-safety: exactly one thread may call try_push and exactly one (other) thread may
// call try_pop / empty_for_consumer. Capacity is fixed at construction (rounded up to a
// power of two); try_push fails rather than grow, so the caller decides what a full queue
// means.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <optional>
#include <utility>

#include "core/base/assert.h"

namespace rm {

template <typename T>
class SpscQueue {
 public:
  explicit SpscQueue(size_t capacity) {
    RM_ASSERT(capacity > 0);
    size_t cap = 1;
    while (cap < capacity) {
      cap <<= 1;
    }
    mask_ = cap - 1;
    slots_ = std::make_unique<std::optional<T>[]>(cap);
  }
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  size_t capacity() const { return mask_ + 1; }

  // Producer side. Returns false (and leaves `value` untouched) when full.
  bool try_push(T& value) {
    const size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) {
        return false;
      }
    }
    slots_[tail & mask_].emplace(std::move(value));
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer side.
  std::optional<T> try_pop() {
    const size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) {
        return std::nullopt;
      }
    }
    std::optional<T> out(std::move(slots_[head & mask_]));
    slots_[head & mask_].reset();
    head_.store(head + 1, std::memory_order_release);
    return out;
  }

  // Either side; a snapshot.
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  static constexpr size_t kLine = 64;
  size_t mask_ = 0;
  std::unique_ptr<std::optional<T>[]> slots_;
  alignas(kLine) std::atomic<size_t> head_{0};
  size_t tail_cache_ = 0;  // consumer's view of tail_
  alignas(kLine) std::atomic<size_t> tail_{0};
  size_t head_cache_ = 0;  // producer's view of head_
};

}  // namespace rm
