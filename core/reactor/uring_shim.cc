#include "core/reactor/uring_shim.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

namespace rm::uring_shim {

Result<io_uring_buf_ring*> setup_buf_ring(io_uring* ring, uint32_t entries, uint16_t group_id) {
  const size_t bytes = size_t{entries} * sizeof(io_uring_buf);
  void* mem = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mem == MAP_FAILED) {
    return Status::FromErrno("mmap provided buffer ring", errno);
  }
  auto* br = static_cast<io_uring_buf_ring*>(mem);
  io_uring_buf_ring_init(br);

  io_uring_buf_reg reg;
  std::memset(&reg, 0, sizeof reg);
  reg.ring_addr = reinterpret_cast<uint64_t>(br);
  reg.ring_entries = entries;
  reg.bgid = group_id;
  const int rc = io_uring_register_buf_ring(ring, &reg, 0);
  if (rc != 0) {
    ::munmap(mem, bytes);
    if (rc == -EINVAL) {
      return Status::Unsupported(
          "io_uring provided buffer rings (IORING_REGISTER_PBUF_RING, Linux 5.19+) are not "
          "supported by this kernel");
    }
    return Status::FromErrno("io_uring_register_buf_ring", -rc);
  }
  return br;
}

void free_buf_ring(io_uring* ring, io_uring_buf_ring* br, uint32_t entries, uint16_t group_id) {
  if (ring != nullptr) {
    io_uring_unregister_buf_ring(ring, group_id);
  }
  ::munmap(br, size_t{entries} * sizeof(io_uring_buf));
}

void prep_recv_multishot(io_uring_sqe* sqe, int fd, uint16_t group_id) {
  io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = group_id;
}

void prep_poll_multishot(io_uring_sqe* sqe, int fd, uint32_t poll_mask) {
  io_uring_prep_poll_multishot(sqe, fd, poll_mask);
}

}  // namespace rm::uring_shim
