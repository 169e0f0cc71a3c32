// Readiness watches on descriptors the reactor does not own (a resolver's sockets, a pipe),
// through IORING_OP_POLL_ADD on the shard's ring.
//
//   uint64_t id = shard.watch_fd(fd, POLLIN, [](uint32_t revents) { ... });
//   ...
//   shard.unwatch_fd(id);  // before the descriptor is closed
//
// kLevel re-arms a one-shot poll after each callback, so a descriptor that is still ready
// is reported again: the callback may read just part of what is there (a DNS-over-TCP
// reader does). kEdge keeps one multishot poll armed and reports each new wake-up; the
// callback must drain the descriptor until EAGAIN. Where the kernel refuses multishot polls
// kEdge falls back to kLevel, which reports at least as often.
// Thread-safety: watch_fd/unwatch_fd and the callbacks run on the shard's own thread.
#pragma once

#include <cstdint>
#include <functional>

namespace rm {

enum class WatchMode : uint8_t { kLevel, kEdge };

// `revents` is the poll(2) mask: POLLIN, POLLOUT, POLLERR, POLLHUP. The callback may call
// watch_fd and unwatch_fd, for its own watch too.
using WatchCallback = std::function<void(uint32_t revents)>;

}  // namespace rm
