// The one place that knows which liburing version we build against.
//
// Debian 12 ships liburing 2.3, which lacks io_uring_setup_buf_ring() and
// io_uring_free_buf_ring() (added in 2.4). We set provided buffer rings up by hand the way
// 2.4 does internally: mmap the ring memory, io_uring_buf_ring_init, then
// io_uring_register_buf_ring. Every other liburing-version difference belongs here too.
#pragma once

#include <liburing.h>

#include <cstdint>

#include "core/base/status.h"

namespace rm::uring_shim {

// Maps and registers a provided buffer ring of `entries` slots (a power of two) under
// buffer group `group_id`. The ring memory is owned by the caller until free_buf_ring.
Result<io_uring_buf_ring*> setup_buf_ring(io_uring* ring, uint32_t entries, uint16_t group_id);
// `ring` may be null when the ring is already gone (then the memory is only unmapped).
void free_buf_ring(io_uring* ring, io_uring_buf_ring* br, uint32_t entries, uint16_t group_id);

// Multishot recv from a provided buffer group (liburing 2.3 has the prep helper, but
// keeping the call here means a later API change touches one file).
void prep_recv_multishot(io_uring_sqe* sqe, int fd, uint16_t group_id);

// A multishot poll (IORING_POLL_ADD_MULTI, Linux 5.13+): one CQE per wake-up, with
// IORING_CQE_F_MORE while it stays armed.
void prep_poll_multishot(io_uring_sqe* sqe, int fd, uint32_t poll_mask);

}  // namespace rm::uring_shim
