// Shard::watch_fd and its poll completions.
//
// A watch is an entry keyed like a connection; its poll carries the key, so a completion
// for a watch that is gone (removed, its slot reused) is ignored. unwatch_fd() erases the
// entry at once and asks the kernel to remove the poll; the removal completes later and
// finds nothing.
#include "core/reactor/fd_watch.h"

#include <poll.h>

#include <cerrno>

#include "core/base/log.h"
#include "core/reactor/shard.h"
#include "core/reactor/uring_shim.h"
#include "core/reactor/user_data.h"

namespace rm {

uint64_t Shard::watch_fd(int fd, uint32_t events, WatchCallback callback, WatchMode mode) {
  RM_ASSERT(current() == this && fd >= 0 && callback);
  FdWatch entry;
  entry.fd = fd;
  entry.events = events;
  entry.mode = mode;
  entry.callback = std::make_shared<WatchCallback>(std::move(callback));
  const uint64_t key = watches_.insert(std::move(entry));
  arm_watch(key, *watches_.find(key));
  return key;
}

void Shard::unwatch_fd(uint64_t id) {
  FdWatch* watch = watches_.find(id);
  if (watch == nullptr) {
    return;
  }
  if (watch->armed && ring_) {
    io_uring_sqe* sqe = ring_->next_sqe();
    io_uring_prep_poll_remove(sqe, make_user_data(Op::kWatch, id));
    io_uring_sqe_set_data64(sqe, make_user_data(Op::kCancel, 0));
  }
  watches_.erase(id);
}

void Shard::arm_watch(uint64_t key, FdWatch& watch) {
  RM_ASSERT(!watch.armed);
  io_uring_sqe* sqe = ring_->next_sqe();
  watch.multishot = watch.mode == WatchMode::kEdge && multishot_poll_;
  if (watch.multishot) {
    uring_shim::prep_poll_multishot(sqe, watch.fd, watch.events);
  } else {
    io_uring_prep_poll_add(sqe, watch.fd, watch.events);
  }
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kWatch, key));
  watch.armed = true;
}

void Shard::on_watch(uint64_t key, const Completion& c) {
  FdWatch* watch = watches_.find(key);
  if (watch == nullptr) {
    return;
  }
  if (!(c.flags & IORING_CQE_F_MORE)) {
    watch->armed = false;
  }
  if (c.res == -EINVAL && watch->multishot) {
    RM_LOG(kInfo, "poll_multishot_refused").kv("fallback", "one-shot polls");
    multishot_poll_ = false;
    arm_watch(key, *watch);
    return;
  }
  uint32_t revents = static_cast<uint32_t>(c.res);
  if (c.res < 0) {
    RM_LOG(kWarn, "poll_failed").kv("fd", watch->fd).kv("errno", -c.res);
    revents = POLLERR | POLLNVAL;
  }
  const std::shared_ptr<WatchCallback> callback = watch->callback;
  (*callback)(revents);
  // The callback may have removed this watch, or removed it and added another in its slot.
  watch = watches_.find(key);
  if (watch != nullptr && !watch->armed && c.res >= 0) {
    arm_watch(key, *watch);
  }
}

}  // namespace rm
