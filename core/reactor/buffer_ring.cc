#include "core/reactor/buffer_ring.h"

#include "core/reactor/uring_shim.h"

namespace rm {

Result<std::unique_ptr<BufferRing>> BufferRing::create(Ring& ring, uint32_t count, uint32_t size,
                                                       uint16_t group_id) {
  RM_ASSERT(count > 0 && count <= 32768 && (count & (count - 1)) == 0);
  std::unique_ptr<BufferRing> self(new BufferRing(ring, count, size, group_id));
  Result<io_uring_buf_ring*> br = uring_shim::setup_buf_ring(ring.raw(), count, group_id);
  if (!br.ok()) {
    return br.status();
  }
  self->br_ = *br;
  self->memory_.reset(new char[size_t{count} * size]);
  const int mask = io_uring_buf_ring_mask(count);
  for (uint32_t bid = 0; bid < count; ++bid) {
    io_uring_buf_ring_add(self->br_, self->buffer_address(static_cast<uint16_t>(bid)), size,
                          static_cast<unsigned short>(bid), mask, static_cast<int>(bid));
  }
  io_uring_buf_ring_advance(self->br_, static_cast<int>(count));
  return self;
}

BufferRing::~BufferRing() {
  uring_shim::free_buf_ring(detached_ ? nullptr : ring_.raw(), br_, count_, group_id_);
}

std::string_view BufferRing::take(uint16_t bid, uint32_t len) {
  RM_ASSERT(bid < count_ && len <= size_);
  ++in_use_;
  return std::string_view(buffer_address(bid), len);
}

void BufferRing::recycle(uint16_t bid) {
  RM_ASSERT(bid < count_ && in_use_ > 0);
  --in_use_;
  io_uring_buf_ring_add(br_, buffer_address(bid), size_, bid, io_uring_buf_ring_mask(count_),
                        pending_);
  ++pending_;
}

void BufferRing::publish() {
  if (pending_ > 0) {
    io_uring_buf_ring_advance(br_, pending_);
    pending_ = 0;
  }
}

}  // namespace rm
