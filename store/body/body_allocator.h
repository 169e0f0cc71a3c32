// BodyAllocator: decides where a shard's next body bytes go — the end of its open segment —
// before they are written, so a message knows its extents while the write is still queued.
// When a piece would overflow the segment size the allocator opens a new segment and
// returns the number of the old one, which the writer must seal after its last write.
// Thread-safety: one per shard, used on that shard's thread only; create_segment is the
// only call into the shared BodyStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "store/body/body_extent.h"
#include "store/body/body_store.h"

namespace rm {

class BodyAllocator {
 public:
  BodyAllocator(BodyStore& store, uint64_t segment_bytes)
      : store_(store), segment_bytes_(segment_bytes) {}

  // The extent `bytes` will occupy (with their CRC). `sealed` receives the segment this
  // allocation left behind, if any.
  BodyExtent allocate(std::string_view bytes, std::optional<uint64_t>& sealed);
  // The open segment, if any was started (0 otherwise).
  uint64_t current_segment() const { return segment_; }

 private:
  BodyStore& store_;
  const uint64_t segment_bytes_;
  uint64_t segment_ = 0;
  uint64_t tail_ = 0;
};

}  // namespace rm
