// Ring: one io_uring instance, owned and used by exactly one thread (its shard).
//
// Created with SINGLE_ISSUER | DEFER_TASKRUN where the kernel allows (completions run only
// when the owner asks for them: no interrupts of the reactor), else COOP_TASKRUN, else no
// task-run flags. The CQ is sized by the caller so that it cannot overflow under the
// configured limits. Creation probes every opcode the reactor uses and fails with a message
// naming what the kernel lacks.
// Thread-safety: none; create it on the thread that will use it (SINGLE_ISSUER).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/base/status.h"

namespace rm {

class Ring {
 public:
  static Result<std::unique_ptr<Ring>> create(uint32_t sq_entries, uint32_t cq_entries);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* raw() { return &ring_; }
  // A free SQE; when the SQ is full it submits what is queued first, so it never fails.
  io_uring_sqe* next_sqe();
  // Makes room for `n` SQEs (submitting what is queued if needed), so that the next `n`
  // next_sqe() calls submit nothing in between: a linked chain must go in one submission.
  void reserve_sqes(unsigned n);
  // Submits queued SQEs and waits for at least `wait_nr` completions (0 = don't wait).
  // Returns the number submitted or a negative errno (-EINTR and -ETIME are normal).
  int submit_and_wait(unsigned wait_nr);
  // "defer_taskrun", "coop_taskrun" or "plain": which setup the kernel accepted.
  std::string_view mode() const { return mode_; }
  uint32_t cq_entries() const { return ring_.cq.ring_entries; }

 private:
  Ring() = default;
  io_uring ring_{};
  std::string_view mode_ = "plain";
};

// Fails with a clear message when the running kernel is older than the reactor needs
// (multishot recv and provided buffer rings: Linux 6.0).
Status check_kernel_version();

}  // namespace rm
