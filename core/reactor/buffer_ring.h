// BufferRing: a shard's provided buffer ring for zero-copy multishot receive.
//
// The kernel picks a free buffer for each received chunk and tells us its id in the CQE.
// The shard hands that memory to the connection's parser in place and gives the buffer
// back (recycle) as soon as the parser is done with it; recycled buffers become visible to
// the kernel at the next publish(), once per batch of completions.
// Thread-safety: owned by one shard thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/base/status.h"
#include "core/reactor/ring.h"

namespace rm {

class BufferRing {
 public:
  // REQUIRES: count is a power of two, at most 32768.
  static Result<std::unique_ptr<BufferRing>> create(Ring& ring, uint32_t count, uint32_t size,
                                                    uint16_t group_id);
  ~BufferRing();
  BufferRing(const BufferRing&) = delete;
  BufferRing& operator=(const BufferRing&) = delete;

  uint16_t group_id() const { return group_id_; }
  uint32_t buffer_size() const { return size_; }
  uint32_t count() const { return count_; }
  // Buffers the kernel has filled and we have not recycled yet.
  uint32_t in_use() const { return in_use_; }

  // The bytes the kernel put in buffer `bid`. Marks it in use.
  std::string_view take(uint16_t bid, uint32_t len);
  void recycle(uint16_t bid);
  // Makes recycled buffers available to the kernel.
  void publish();
  // The ring is about to be destroyed (which unregisters everything): the destructor must
  // then only unmap the memory.
  void detach_from_ring() { detached_ = true; }

 private:
  BufferRing(Ring& ring, uint32_t count, uint32_t size, uint16_t group_id)
      : ring_(ring), count_(count), size_(size), group_id_(group_id) {}
  char* buffer_address(uint16_t bid) { return memory_.get() + size_t{bid} * size_; }

  Ring& ring_;
  uint32_t count_;
  uint32_t size_;
  uint16_t group_id_;
  io_uring_buf_ring* br_ = nullptr;
  std::unique_ptr<char[]> memory_;
  uint32_t in_use_ = 0;
  int pending_ = 0;  // recycled since the last publish
  bool detached_ = false;
};

}  // namespace rm
