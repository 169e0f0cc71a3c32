// SlotTable<T>: objects a shard hands out keys for (pending connects, fd watches, timers).
//
// A key is a slot index plus the slot's generation, packed like a connection key (see
// user_data.h), so a completion or a timer that names an object which is gone is told
// apart from the object now living in the same slot. Entries live in a deque: a reference
// stays valid while other entries are added or erased, so a callback running from one
// entry may add or erase others (and erase its own entry, once it has stopped using it).
// Thread-safety: none; owned by one shard thread.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "core/base/assert.h"
#include "core/reactor/user_data.h"

namespace rm {

template <typename T>
class SlotTable {
 public:
  // Stores `value` and returns its key.
  uint64_t insert(T value) {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(entries_.size());
      RM_ASSERT(slot < (uint32_t{1} << kSlotBits));
      entries_.emplace_back();
    }
    Entry& entry = entries_[slot];
    entry.value.emplace(std::move(value));
    ++size_;
    return make_conn_key(slot, entry.generation);
  }

  // The live object with this key, or nullptr when it was erased (or never existed).
  T* find(uint64_t key) {
    const uint32_t slot = conn_key_slot(key);
    if (slot >= entries_.size()) {
      return nullptr;
    }
    Entry& entry = entries_[slot];
    if (!entry.value || entry.generation != conn_key_generation(key)) {
      return nullptr;
    }
    return &*entry.value;
  }

  // REQUIRES: find(key) != nullptr.
  void erase(uint64_t key) {
    const uint32_t slot = conn_key_slot(key);
    RM_ASSERT(find(key) != nullptr);
    Entry& entry = entries_[slot];
    entry.value.reset();
    ++entry.generation;
    free_.push_back(slot);
    --size_;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // The keys of every live object, for a walk that may erase or insert as it goes.
  std::vector<uint64_t> keys() const {
    std::vector<uint64_t> out;
    out.reserve(size_);
    for (uint32_t slot = 0; slot < entries_.size(); ++slot) {
      if (entries_[slot].value) {
        out.push_back(make_conn_key(slot, entries_[slot].generation));
      }
    }
    return out;
  }

  void clear() {
    entries_.clear();
    free_.clear();
    size_ = 0;
  }

 private:
  struct Entry {
    std::optional<T> value;
    uint32_t generation = 1;
  };
  std::deque<Entry> entries_;
  std::vector<uint32_t> free_;
  size_t size_ = 0;
};

}  // namespace rm
