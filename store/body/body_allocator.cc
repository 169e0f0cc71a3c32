#include "store/body/body_allocator.h"

#include "store/body/crc32c.h"

namespace rm {

BodyExtent BodyAllocator::allocate(std::string_view bytes, std::optional<uint64_t>& sealed) {
  sealed.reset();
  const bool full = segment_ != 0 && tail_ > 0 && tail_ + bytes.size() > segment_bytes_;
  if (full) {
    sealed = segment_;
  }
  if (segment_ == 0 || full) {
    segment_ = store_.create_segment();
    tail_ = 0;
  }
  BodyExtent extent{segment_, tail_, static_cast<uint32_t>(bytes.size()), crc32c(bytes)};
  tail_ += bytes.size();
  return extent;
}

}  // namespace rm
