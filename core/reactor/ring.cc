#include "core/reactor/ring.h"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace rm {
namespace {

struct NeededOp {
  int op;
  const char* name;
};
constexpr NeededOp kNeededOps[] = {
    {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"},
    {IORING_OP_RECV, "IORING_OP_RECV"},
    {IORING_OP_SENDMSG, "IORING_OP_SENDMSG"},
    {IORING_OP_READ, "IORING_OP_READ"},
    {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
    {IORING_OP_TIMEOUT_REMOVE, "IORING_OP_TIMEOUT_REMOVE"},
    {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"},
    {IORING_OP_POLL_ADD, "IORING_OP_POLL_ADD"},
    {IORING_OP_POLL_REMOVE, "IORING_OP_POLL_REMOVE"},
    {IORING_OP_CONNECT, "IORING_OP_CONNECT"},
    {IORING_OP_LINK_TIMEOUT, "IORING_OP_LINK_TIMEOUT"},
};

Status probe_opcodes(io_uring* ring) {
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  if (probe == nullptr) {
    return Status::Unsupported("io_uring opcode probe (IORING_REGISTER_PROBE, Linux 5.6+) failed");
  }
  Status status;
  for (const NeededOp& needed : kNeededOps) {
    if (!io_uring_opcode_supported(probe, needed.op)) {
      status = Status::Unsupported(std::string("the kernel's io_uring lacks ") + needed.name);
      break;
    }
  }
  io_uring_free_probe(probe);
  return status;
}

int try_init(io_uring* ring, uint32_t sq_entries, uint32_t cq_entries, unsigned flags) {
  io_uring_params params;
  std::memset(&params, 0, sizeof params);
  params.flags = flags | IORING_SETUP_CQSIZE;
  params.cq_entries = cq_entries;
  return io_uring_queue_init_params(sq_entries, ring, &params);
}

}  // namespace

Status check_kernel_version() {
  utsname info;
  if (uname(&info) != 0) {
    return Status::FromErrno("uname", errno);
  }
  int major = 0;
  int minor = 0;
  if (std::sscanf(info.release, "%d.%d", &major, &minor) != 2) {
    return Status::Ok();  // unknown format: let the ring setup speak for itself
  }
  if (major < 6) {
    return Status::Unsupported(std::string("ringmail needs Linux 6.0 or later (multishot recv with "
                                           "provided buffer rings); this kernel is ") +
                               info.release);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Ring>> Ring::create(uint32_t sq_entries, uint32_t cq_entries) {
  std::unique_ptr<Ring> ring(new Ring());
  struct Attempt {
    unsigned flags;
    std::string_view mode;
  };
  const Attempt attempts[] = {
      {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, "defer_taskrun"},
      {IORING_SETUP_COOP_TASKRUN, "coop_taskrun"},
      {0, "plain"},
  };
  int rc = -EINVAL;
  for (const Attempt& attempt : attempts) {
    rc = try_init(&ring->ring_, sq_entries, cq_entries, attempt.flags);
    if (rc == 0) {
      ring->mode_ = attempt.mode;
      break;
    }
    if (rc != -EINVAL) {
      break;  // not a missing feature: ENOMEM, EPERM (io_uring disabled), ...
    }
  }
  if (rc == -EPERM) {
    return Status::Unsupported(
        "io_uring is disabled on this system (sysctl kernel.io_uring_disabled or a seccomp "
        "policy)");
  }
  if (rc != 0) {
    return Status::FromErrno("io_uring_queue_init", -rc);
  }
  if (Status s = probe_opcodes(&ring->ring_); !s.ok()) {
    return s;
  }
  return ring;
}

Ring::~Ring() { io_uring_queue_exit(&ring_); }

io_uring_sqe* Ring::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  while (sqe == nullptr) {
    io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

void Ring::reserve_sqes(unsigned n) {
  RM_ASSERT(n <= ring_.sq.ring_entries);
  while (io_uring_sq_space_left(&ring_) < n) {
    io_uring_submit(&ring_);
  }
}

int Ring::submit_and_wait(unsigned wait_nr) {
  if (wait_nr == 0) {
    // With DEFER_TASKRUN completions are only posted when we enter the kernel to get events.
    return io_uring_submit_and_get_events(&ring_);
  }
  return io_uring_submit_and_wait(&ring_, wait_nr);
}

}  // namespace rm
