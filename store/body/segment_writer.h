// SegmentWriter: the blocking half of body writes — puts bytes at the extents a
// BodyAllocator chose, syncs, and seals segments.
// Thread-safety: one per shard, used only by that shard's store jobs, which run one at a
// time on its blocking lane; not thread-safe otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "store/body/body_extent.h"
#include "store/body/body_store.h"

namespace rm {

struct BodyPiece {
  BodyExtent extent;
  std::string_view bytes;  // extent.length bytes
};

class SegmentWriter {
 public:
  explicit SegmentWriter(BodyStore& store) : store_(store) {}
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Writes every piece at its extent, unsynced; pieces that follow each other in a file go
  // out in one pwritev.
  Status write(std::vector<BodyPiece> pieces);
  // fdatasync of every segment written since the last sync.
  Status sync();
  // Syncs and closes `segment`, then tells the store it is sealed.
  Status seal(uint64_t segment);

 private:
  Result<int> fd_for(uint64_t segment);
  Status write_run(int fd, const std::vector<BodyPiece>& pieces, size_t begin, size_t end);

  BodyStore& store_;
  std::map<uint64_t, int> fds_;
  std::set<uint64_t> dirty_;
};

}  // namespace rm
