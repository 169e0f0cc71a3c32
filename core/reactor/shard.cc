#include "core/reactor/shard.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/reactor/uring_shim.h"
#include "core/reactor/user_data.h"
#include "core/runtime/blocking_lane.h"
#include "core/runtime/runtime.h"

namespace rm {
namespace {

thread_local Shard* t_current_shard = nullptr;

// The counters have one writer (their shard) and are only read elsewhere: a plain load and
// store is enough, and avoids a locked instruction on every receive and send.
void bump(std::atomic<uint64_t>& counter, int64_t delta) {
  counter.store(counter.load(std::memory_order_relaxed) + static_cast<uint64_t>(delta),
                std::memory_order_relaxed);
}
constexpr uint16_t kBufferGroup = 0;
// Tasks one loop iteration takes from one inbox before it looks at the network again.
constexpr int kInboxBatch = 256;
// After accept fails for want of descriptors or memory.
constexpr int64_t kAcceptRetryMs = 100;
// Marks a timer-wheel owner id as a shard timer rather than a connection deadline.
constexpr uint64_t kTimerOwnerTag = uint64_t{1} << 63;

}  // namespace

Shard::Shard(Runtime& runtime, int index, const Options& options)
    : runtime_(runtime), index_(index), options_(options),
      backlogged_(static_cast<size_t>(runtime.shard_count())) {
  const int shards = runtime.shard_count();
  for (int source = 0; source <= shards; ++source) {
    inbox_.push_back(std::make_unique<SpscQueue<Task>>(
        source < shards ? options.runtime.cross_shard_queue_capacity
                        : options.runtime.blocking_queue_capacity));
  }
  backlog_.resize(static_cast<size_t>(shards));
  connections_max_ = std::max<size_t>(1, options.limits.connections_max / static_cast<size_t>(shards));
}

Shard::~Shard() {
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
  }
}

Shard* Shard::current() { return t_current_shard; }

void Shard::add_listener(const ListenerSpec* spec, int fd) {
  listeners_.push_back(ShardListener{spec, fd, false});
}

Status Shard::set_up() {
  Result<std::unique_ptr<Ring>> ring =
      Ring::create(options_.runtime.ring_entries, options_.runtime.cq_entries);
  if (!ring.ok()) {
    return ring.status();
  }
  ring_ = std::move(ring).value();
  Result<std::unique_ptr<BufferRing>> buffers =
      BufferRing::create(*ring_, options_.runtime.recv_buffer_count,
                         options_.runtime.recv_buffer_size, kBufferGroup);
  if (!buffers.ok()) {
    return buffers.status();
  }
  buffers_ = std::move(buffers).value();
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return Status::FromErrno("eventfd", errno);
  }
  timers_ = std::make_unique<TimerWheel>(options_.runtime.timer_tick_ms, monotonic_ms());
  lane_ = std::make_unique<BlockingLane>(index_, runtime_.cpus());
  slots_.reserve(std::min<size_t>(connections_max_, 65536));
  return Status::Ok();
}

Status Shard::run(const std::function<void(Status)>& started) {
  t_current_shard = this;
  log_set_thread_shard(index_);
  Status status = set_up();
  started(status);
  if (!status.ok()) {
    return status;
  }
  RM_LOG(kDebug, "shard_started").kv("ring", ring_->mode()).kv("cq", ring_->cq_entries());
  arm_wake_read();
  if (signal_fd_ >= 0) {
    arm_signal_read();
  }
  for (uint32_t i = 0; i < listeners_.size(); ++i) {
    arm_accept(listeners_[i], i);
  }
  loop();
  // Tear down in order: the lane finishes its jobs, then the exit tasks run (on a shard
  // whose ring still exists), then the ring goes (with the kernel's references to our
  // sockets), then the sockets.
  lane_.reset();
  for (Task& task : exit_tasks_) {
    task();
  }
  exit_tasks_.clear();
  for (Slot& slot : slots_) {
    if (slot.conn) {
      slot.conn->send_inflight_ = false;
      slot.conn->recv_armed_ = false;
      timers_->cancel(slot.conn->timer_);  // the wheel outlives the connections
    }
  }
  for (uint64_t key : shard_timers_.keys()) {
    cancel_timer(key);
  }
  deferred_.clear();
  buffers_->detach_from_ring();
  ring_.reset();
  buffers_.reset();
  slots_.clear();
  watches_.clear();
  for (uint64_t key : connects_.keys()) {  // none unless the loop ended without a drain
    ::close(connects_.find(key)->fd);
  }
  connects_.clear();
  for (ShardListener& listener : listeners_) {
    if (listener.fd >= 0) {
      ::close(listener.fd);
    }
  }
  t_current_shard = nullptr;
  return Status::Ok();
}

void Shard::loop() {
  while (!stopped_) {
    bool busy = run_inbox();
    flush_backlogs();
    after_batch();
    update_timer();
    check_drain_done();
    if (stopped_) {
      break;
    }
    busy = busy || !resume_.empty() || !dirty_.empty() || !deferred_.empty();
    bool backlog = false;
    for (const auto& queue : backlog_) {
      backlog = backlog || !queue.empty();
    }
    unsigned wait_nr = busy ? 0 : 1;
    if (wait_nr == 1) {
      // Announce the sleep, then look once more: a producer that pushed before seeing the
      // flag has its task found here; one that pushed after sees the flag and wakes us.
      sleeping_.store(true, std::memory_order_seq_cst);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (inbox_nonempty()) {
        wait_nr = 0;
      }
    }
    if (wait_nr == 1 && backlog) {
      // A full queue to another shard: poll briefly instead of sleeping without a waker.
      __kernel_timespec ts{0, 1000000};
      io_uring_cqe* cqe = nullptr;
      io_uring_submit_and_wait_timeout(ring_->raw(), &cqe, 1, &ts, nullptr);
    } else {
      const int rc = ring_->submit_and_wait(wait_nr);
      RM_ASSERT_MSG(rc >= 0 || rc == -EINTR || rc == -ETIME || rc == -EAGAIN || rc == -EBUSY,
                    "io_uring_enter failed");
    }
    sleeping_.store(false, std::memory_order_relaxed);
    reap();
    for (const Completion& c : run_queue_) {
      dispatch(c);
    }
    run_queue_.clear();
    expire_deadlines();
  }
}

void Shard::reap() {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0;
  unsigned count = 0;
  io_uring_for_each_cqe(ring_->raw(), head, cqe) {
    run_queue_.push_back(Completion{cqe->user_data, cqe->res, cqe->flags});
    ++count;
  }
  io_uring_cq_advance(ring_->raw(), count);
}

void Shard::dispatch(const Completion& c) {
  const uint64_t key = user_data_key(c.user_data);
  switch (user_data_op(c.user_data)) {
    case Op::kAccept:
      on_accept(static_cast<uint32_t>(key), c);
      break;
    case Op::kRecv:
      if (Connection* conn = find(key)) {
        on_recv(*conn, c);
      } else if (c.flags & IORING_CQE_F_BUFFER) {
        buffers_->recycle(static_cast<uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT));
      }
      break;
    case Op::kSend:
      if (Connection* conn = find(key)) {
        on_send(*conn, c);
      }
      break;
    case Op::kTimer:
      if (key == timer_generation_) {
        timer_armed_ms_.reset();
      }
      break;
    case Op::kWake:
      arm_wake_read();
      break;
    case Op::kSignal:
      on_signal();
      break;
    case Op::kConnect:
      on_connect(key, c);
      break;
    case Op::kWatch:
      on_watch(key, c);
      break;
    case Op::kCancel:
    case Op::kTimerRemove:
    case Op::kLinkTimeout:
      break;
  }
}

// Work that is cheaper done once per batch: output gathered into one sendmsg per
// connection, receives re-armed after buffers came back, buffers published to the kernel.
void Shard::after_batch() {
  run_deferred();
  for (size_t i = 0; i < resume_.size(); ++i) {  // handlers may add to resume_
    if (Connection* conn = find(resume_[i])) {
      conn->resume_pending_ = false;
      conn->deliver(std::string_view());
    }
  }
  resume_.clear();
  buffers_->publish();
  for (uint64_t key : rearm_) {
    if (Connection* conn = find(key); conn != nullptr && conn->open()) {
      arm_recv(*conn);
    }
  }
  rearm_.clear();
  for (size_t i = 0; i < dirty_.size(); ++i) {
    if (Connection* conn = find(dirty_[i])) {
      conn->dirty_ = false;
      flush(*conn);
      progress_close(*conn);
    }
  }
  dirty_.clear();
}

// ---- cross-shard and external tasks ----

bool Shard::run_inbox() {
  bool ran = false;
  for (size_t source = 0; source < inbox_.size(); ++source) {
    SpscQueue<Task>& queue = *inbox_[source];
    int popped = 0;
    for (; popped < kInboxBatch; ++popped) {
      std::optional<Task> task = queue.try_pop();
      if (!task) {
        break;
      }
      if (source == inbox_.size() - 1) {
        --lane_outstanding_;  // a blocking-lane completion
      }
      (*task)();
      bump(counters_.tasks_run, 1);
      ran = true;
    }
    // Room freed for a shard that waits to send its backlog: wake it rather than let it
    // find out at its next poll.
    if (popped > 0 && source < backlogged_.size() &&
        backlogged_[source].load(std::memory_order_relaxed) &&
        backlogged_[source].exchange(false, std::memory_order_acq_rel)) {
      runtime_.shard(static_cast<int>(source)).wake();
    }
  }
  if (external_nonempty_.load(std::memory_order_acquire)) {
    std::deque<Task> tasks;
    {
      std::lock_guard<std::mutex> lock(external_mu_);
      tasks.swap(external_);
      external_nonempty_.store(false, std::memory_order_relaxed);
    }
    for (Task& task : tasks) {
      task();
      bump(counters_.tasks_run, 1);
    }
    ran = ran || !tasks.empty();
  }
  return ran;
}

bool Shard::inbox_nonempty() const {
  for (const auto& queue : inbox_) {
    if (!queue->empty()) {
      return true;
    }
  }
  return external_nonempty_.load(std::memory_order_acquire);
}

void Shard::post_external(Task task) {
  {
    std::lock_guard<std::mutex> lock(external_mu_);
    external_.push_back(std::move(task));
    external_nonempty_.store(true, std::memory_order_release);
  }
  wake();
}

void Shard::wake() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (sleeping_.exchange(false, std::memory_order_seq_cst)) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
  }
}

bool Shard::queue_to(int target, Task& task) {
  auto& backlog = backlog_[static_cast<size_t>(target)];
  if (!backlog.empty()) {
    return false;  // keep order: older tasks for `target` go first
  }
  return runtime_.shard(target).inbox_from(index_).try_push(task);
}

void Shard::add_backlog(int target, Task task) {
  backlog_[static_cast<size_t>(target)].push_back(std::move(task));
}

void Shard::note_backlog_from(int source) {
  backlogged_[static_cast<size_t>(source)].store(true, std::memory_order_seq_cst);
}

void Shard::flush_backlogs() {
  for (size_t target = 0; target < backlog_.size(); ++target) {
    auto& backlog = backlog_[target];
    if (backlog.empty()) {
      continue;
    }
    Shard& dest = runtime_.shard(static_cast<int>(target));
    while (!backlog.empty() && dest.inbox_from(index_).try_push(backlog.front())) {
      backlog.pop_front();
    }
    if (!backlog.empty()) {
      dest.note_backlog_from(index_);
    }
    dest.wake();
  }
}

Status Shard::run_blocking(Task job) {
  if (lane_outstanding_ >= options_.runtime.blocking_queue_capacity) {
    return Status::ResourceExhausted("blocking lane queue is full");
  }
  ++lane_outstanding_;
  lane_->push(std::move(job));
  return Status::Ok();
}

void Shard::complete_from_lane(Task done) {
  // Never full: at most blocking_queue_capacity jobs are outstanding (run_blocking).
  RM_ASSERT(inbox_.back()->try_push(done));
  wake();
}

// ---- accept ----

void Shard::arm_accept(ShardListener& listener, uint32_t index) {
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_multishot_accept(sqe, listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kAccept, index));
  listener.accept_armed = true;
}

void Shard::on_accept(uint32_t listener_index, const Completion& c) {
  ShardListener& listener = listeners_[listener_index];
  if (!(c.flags & IORING_CQE_F_MORE)) {
    listener.accept_armed = false;
  }
  if (c.res >= 0) {
    if (draining_) {
      ::close(c.res);
    } else if (listener.spec->counts_toward_limit && limited_connections_ >= connections_max_) {
      refuse_overloaded(listener, c.res);
    } else {
      open_connection(listener, c.res);
    }
  } else if (c.res != -ECANCELED && !draining_) {
    RM_LOG(kWarn, "accept_failed").kv("listener", listener.spec->name).kv("errno", -c.res);
    if (c.res == -EMFILE || c.res == -ENFILE || c.res == -ENOMEM || c.res == -ENOBUFS) {
      // Out of descriptors or memory: re-arming at once would spin. Try again shortly;
      // pending connections wait in the kernel's backlog meanwhile.
      listener.retry_at_ms = monotonic_ms() + kAcceptRetryMs;
      if (listener.accept_armed) {
        io_uring_sqe* sqe = ring_->next_sqe();
        io_uring_prep_cancel64(sqe, make_user_data(Op::kAccept, listener_index), 0);
        io_uring_sqe_set_data64(sqe, make_user_data(Op::kCancel, 0));
      }
    }
  }
  if (!listener.accept_armed) {
    if (draining_) {
      ::close(listener.fd);
      listener.fd = -1;
    } else if (listener.retry_at_ms == 0) {
      arm_accept(listener, listener_index);
    }
  }
}

void Shard::retry_accepts(int64_t now_ms) {
  for (uint32_t i = 0; i < listeners_.size(); ++i) {
    ShardListener& listener = listeners_[i];
    if (listener.retry_at_ms != 0 && now_ms >= listener.retry_at_ms && !draining_) {
      listener.retry_at_ms = 0;
      if (!listener.accept_armed) {
        arm_accept(listener, i);
      }
    }
  }
}

void Shard::refuse_overloaded(const ShardListener& listener, int fd) {
  bump(counters_.refused_overload, 1);
  const std::string& reply = listener.spec->overload_reply;
  if (!reply.empty()) {
    // Best effort and non-blocking: the socket buffer of a new connection has room.
    [[maybe_unused]] ssize_t n = ::send(fd, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  ::close(fd);
  RM_LOG(kDebug, "refused_overload").kv("listener", listener.spec->name);
}

void Shard::open_connection(const ShardListener& listener, int fd) {
  sockaddr_storage addr;
  socklen_t addr_len = sizeof addr;
  std::string peer = "local";
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) == 0) {
    peer = format_peer_address(addr, addr_len);
  }
  const ListenerSpec& spec = *listener.spec;
  Connection& conn = register_connection(fd, std::move(peer), spec.name, spec.counts_toward_limit,
                                         spec.output_bytes_max);
  bump(counters_.accepted, 1);
  RM_LOG(kDebug, "accept").kv("conn", conn.id()).kv("listener", spec.name).kv("peer", conn.peer());
  start_connection(conn, spec.factory);
}

Connection& Shard::register_connection(int fd, std::string peer, std::string_view name,
                                       bool counted, size_t output_bytes_max) {
  uint32_t slot_index;
  if (!free_slots_.empty()) {
    slot_index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot_index = static_cast<uint32_t>(slots_.size());
    RM_ASSERT(slot_index < (1u << kSlotBits));
    slots_.emplace_back();
  }
  Slot& slot = slots_[slot_index];
  const uint64_t key = make_conn_key(slot_index, slot.generation);
  const uint64_t log_id =
      next_log_serial_++ * static_cast<uint64_t>(runtime_.shard_count()) + static_cast<uint64_t>(index_);
  slot.conn = std::make_unique<Connection>(*this, key, log_id, fd, std::move(peer), name);
  Connection& conn = *slot.conn;
  ++live_connections_;
  conn.counted_ = counted;
  conn.output_bytes_max_ =
      output_bytes_max != 0 ? output_bytes_max : options_.limits.output_buffer_bytes_max;
  limited_connections_ += conn.counted_ ? 1 : 0;
  bump(counters_.open, 1);
  return conn;
}

void Shard::start_connection(Connection& conn, const HandlerFactory& factory) {
  conn.handler_ = factory(conn);
  RM_ASSERT_MSG(conn.handler_ != nullptr, "a handler factory returned no handler");
  arm_recv(conn);
  conn.handler_->on_open(conn);
  mark_dirty(conn);
}

Connection* Shard::find(uint64_t key) {
  const uint32_t slot_index = conn_key_slot(key);
  if (slot_index >= slots_.size()) {
    return nullptr;
  }
  Slot& slot = slots_[slot_index];
  if (!slot.conn || slot.generation != conn_key_generation(key)) {
    return nullptr;
  }
  return slot.conn.get();
}

// ---- receive ----

void Shard::arm_recv(Connection& conn) {
  RM_ASSERT(!conn.recv_armed_);
  io_uring_sqe* sqe = ring_->next_sqe();
  uring_shim::prep_recv_multishot(sqe, conn.fd_, buffers_->group_id());
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kRecv, conn.key_));
  conn.recv_armed_ = true;
}

void Shard::on_recv(Connection& conn, const Completion& c) {
  const bool more = (c.flags & IORING_CQE_F_MORE) != 0;
  if (!more) {
    conn.recv_armed_ = false;
  }
  if (c.res > 0) {
    RM_ASSERT(c.flags & IORING_CQE_F_BUFFER);
    const auto bid = static_cast<uint16_t>(c.flags >> IORING_CQE_BUFFER_SHIFT);
    bump(counters_.bytes_in, static_cast<uint64_t>(c.res));
    conn.deliver(buffers_->take(bid, static_cast<uint32_t>(c.res)));
    buffers_->recycle(bid);  // the handler consumed it or the connection copied the rest
    if (!more && conn.open()) {
      rearm_.push_back(conn.key_);
    }
  } else if (c.res == -ENOBUFS) {
    // Back-pressure, not an error: every buffer is in flight. Buffers come back at the end
    // of this batch; re-arm then.
    bump(counters_.recv_enobufs, 1);
    if (!more && conn.open()) {
      rearm_.push_back(conn.key_);
    }
  } else if (c.res == 0) {
    if (conn.open()) {
      conn.handler_->on_peer_closed(conn);
    }
  } else if (c.res == -ECANCELED && conn.state_ == Connection::State::kMoving) {
    // move_to_shard() cancelled it; the new shard receives from here on.
  } else if (!more && conn.state_ != Connection::State::kClosing) {
    RM_LOG(kDebug, "recv_failed").kv("conn", conn.log_id_).kv("errno", -c.res);
    conn.abort();
  }
  if (conn.open() && !conn.recv_armed_ && c.res == 0) {
    conn.close_after_flush();  // the handler ignored EOF; there is nothing more to read
  }
  mark_dirty(conn);
}

// ---- send ----

void Shard::mark_dirty(Connection& conn) {
  if (!conn.dirty_) {
    conn.dirty_ = true;
    dirty_.push_back(conn.key_);
  }
}

void Shard::mark_resume(Connection& conn) {
  if (!conn.resume_pending_) {
    conn.resume_pending_ = true;
    resume_.push_back(conn.key_);
  }
}

void Shard::flush(Connection& conn) {
  if (conn.state_ == Connection::State::kClosing || !conn.prepare_send()) {
    return;
  }
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_sendmsg(sqe, conn.fd_, &conn.msg_, MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kSend, conn.key_));
}

void Shard::on_send(Connection& conn, const Completion& c) {
  if (c.res < 0) {
    conn.send_inflight_ = false;
    conn.inflight_chunks_ = 0;
    if (conn.state_ != Connection::State::kClosing) {
      RM_LOG(kDebug, "send_failed").kv("conn", conn.log_id_).kv("errno", -c.res);
      conn.abort();
    }
  } else {
    bump(counters_.bytes_out, static_cast<uint64_t>(c.res));
    conn.complete_send(static_cast<size_t>(c.res));
    if (conn.drain_notify_ && conn.out_bytes_ <= conn.drain_below_ &&
        conn.state_ == Connection::State::kOpen) {
      conn.drain_notify_ = false;
      conn.handler_->on_drained(conn);
    }
  }
  mark_dirty(conn);  // more to send, or a close waiting for the queue to empty
}

// ---- close ----

void Shard::progress_close(Connection& conn) {
  if (conn.state_ == Connection::State::kMoving) {
    if (!conn.recv_armed_ && !conn.send_inflight_ && conn.out_.empty()) {
      hand_over(conn);
    }
    return;
  }
  if (conn.state_ == Connection::State::kDraining && conn.out_.empty() && !conn.send_inflight_) {
    conn.begin_closing();
  }
  if (conn.state_ == Connection::State::kClosing && !conn.recv_armed_ && !conn.send_inflight_) {
    release(conn);
  }
}

void Shard::release(Connection& conn) {
  RM_LOG(kDebug, "close").kv("conn", conn.log_id_);
  cancel_deadline(conn);
  conn.handler_->on_close(conn);
  free_slot(conn);
}

void Shard::free_slot(Connection& conn) {
  const uint32_t slot_index = conn_key_slot(conn.key_);
  limited_connections_ -= conn.counted_ ? 1 : 0;  // before `conn` is destroyed below
  Slot& slot = slots_[slot_index];
  slot.conn.reset();  // closes the socket
  ++slot.generation;
  free_slots_.push_back(slot_index);
  --live_connections_;
  bump(counters_.closed, 1);
  bump(counters_.open, -1);
}

void Shard::cancel_recv(Connection& conn) {
  if (!conn.recv_armed_) {
    return;
  }
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_cancel64(sqe, make_user_data(Op::kRecv, conn.key_), 0);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kCancel, 0));
}

// ---- moving a connection to another shard ----

struct Shard::MovedConnection {
  int fd = -1;
  uint64_t log_id = 0;
  std::string peer;
  std::string_view listener;
  bool counted = true;
  size_t output_bytes_max = 0;
  std::unique_ptr<ConnectionHandler> handler;
  std::unique_ptr<StreamFilter> filter;
  std::string carry;  // plaintext the handler had not consumed
  std::string input;  // raw bytes received while moving
};

void Shard::hand_over(Connection& conn) {
  auto moved = std::make_unique<MovedConnection>();
  moved->fd = conn.fd_;
  moved->log_id = conn.log_id_;
  moved->peer = conn.peer_;
  moved->listener = conn.listener_;
  moved->counted = conn.counted_;
  moved->output_bytes_max = conn.output_bytes_max_;
  moved->handler = std::move(conn.handler_);
  moved->filter = std::move(conn.filter_);
  moved->carry = std::move(conn.carry_);
  moved->input = std::move(conn.moved_input_);
  const int target = conn.move_target_;
  cancel_deadline(conn);  // the move's own: the wheel must not keep a node of a freed slot
  RM_LOG(kDebug, "move").kv("conn", conn.log_id_).kv("to_shard", target);
  conn.fd_ = -1;  // the socket lives on
  free_slot(conn);
  runtime_.submit_to(target, [moved = std::move(moved)]() mutable {
    Shard* here = Shard::current();
    RM_ASSERT(here != nullptr);
    here->adopt(std::move(moved));
  });
}

void Shard::adopt(std::unique_ptr<MovedConnection> moved) {
  Connection& conn = register_connection(moved->fd, std::move(moved->peer), moved->listener,
                                         moved->counted, moved->output_bytes_max);
  conn.log_id_ = moved->log_id;
  conn.handler_ = std::move(moved->handler);
  conn.filter_ = std::move(moved->filter);
  conn.carry_ = std::move(moved->carry);
  arm_recv(conn);
  conn.handler_->on_moved(conn);
  if (conn.open() && (!moved->input.empty() || !conn.carry_.empty())) {
    conn.deliver(moved->input);
  }
  if (draining_ && conn.open() && !conn.shutdown_called_) {
    conn.shutdown_called_ = true;
    conn.handler_->on_shutdown(conn);
  }
  mark_dirty(conn);
}

// ---- deadlines ----

void Shard::schedule_deadline(Connection& conn, int64_t deadline_ms) {
  timers_->schedule(conn.timer_, deadline_ms);
}

void Shard::cancel_deadline(Connection& conn) { timers_->cancel(conn.timer_); }

// Keeps one timeout on the ring, armed for the earliest slot that holds a deadline.
void Shard::update_timer() {
  std::optional<int64_t> due = timers_->next_due_ms();
  if (draining_ && (!due || drain_deadline_ms_ < *due)) {
    due = drain_deadline_ms_;
  }
  for (const ShardListener& listener : listeners_) {
    if (listener.retry_at_ms != 0 && (!due || listener.retry_at_ms < *due)) {
      due = listener.retry_at_ms;
    }
  }
  if (!due || (timer_armed_ms_ && *timer_armed_ms_ <= *due)) {
    return;
  }
  if (timer_armed_ms_) {
    io_uring_sqe* sqe = ring_->next_sqe();
    io_uring_prep_timeout_remove(sqe, make_user_data(Op::kTimer, timer_generation_), 0);
    io_uring_sqe_set_data64(sqe, make_user_data(Op::kTimerRemove, 0));
  }
  ++timer_generation_;
  timer_ts_.tv_sec = *due / 1000;
  timer_ts_.tv_nsec = (*due % 1000) * 1000000;
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_timeout(sqe, &timer_ts_, 0, IORING_TIMEOUT_ABS);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kTimer, timer_generation_));
  timer_armed_ms_ = *due;
}

void Shard::expire_deadlines() {
  const int64_t now = monotonic_ms();
  retry_accepts(now);
  timers_->expire(now, due_);
  for (uint64_t key : due_) {
    if (key & kTimerOwnerTag) {
      fire_timer(key & ~kTimerOwnerTag);
    } else if (Connection* conn = find(key);
               conn != nullptr && conn->state_ == Connection::State::kMoving) {
      RM_LOG(kInfo, "move_timeout").kv("conn", conn->log_id_).kv("unsent", conn->out_bytes_);
      conn->abort();  // its output did not drain: the connection closes on this shard
      mark_dirty(*conn);
    } else if (conn != nullptr && conn->state_ != Connection::State::kClosing) {
      bump(counters_.deadlines_fired, 1);
      RM_LOG(kDebug, "deadline").kv("conn", conn->log_id_);
      conn->handler_->on_deadline(*conn);
      mark_dirty(*conn);
    }
  }
  due_.clear();
  if (draining_ && now >= drain_deadline_ms_) {
    for (Slot& slot : slots_) {
      if (slot.conn && slot.conn->state_ != Connection::State::kClosing) {
        RM_LOG(kInfo, "drain_timeout_close").kv("conn", slot.conn->log_id_);
        slot.conn->abort();
      }
    }
  }
}

// ---- one-shot timers and deferred tasks ----

uint64_t Shard::start_timer(int64_t deadline_ms, TimerCallback callback) {
  RM_ASSERT(current() == this && callback);
  const uint64_t key = shard_timers_.insert(ShardTimer{TimerNode{}, std::move(callback)});
  ShardTimer& timer = *shard_timers_.find(key);
  timer.node.owner = key | kTimerOwnerTag;
  timers_->schedule(timer.node, deadline_ms);
  return key;
}

bool Shard::cancel_timer(uint64_t id) {
  ShardTimer* timer = shard_timers_.find(id);
  if (timer == nullptr) {
    return false;
  }
  timers_->cancel(timer->node);
  shard_timers_.erase(id);
  return true;
}

void Shard::fire_timer(uint64_t key) {
  ShardTimer* timer = shard_timers_.find(key);
  if (timer == nullptr) {
    return;
  }
  TimerCallback callback = std::move(timer->callback);
  shard_timers_.erase(key);  // the wheel has unlinked the node already
  callback();
}

void Shard::defer(Task task) {
  RM_ASSERT(current() == this);
  deferred_.push_back(std::move(task));
}

// Tasks deferred while these run wait for the next pass, so a task that defers itself
// cannot keep the shard from the network.
void Shard::run_deferred() {
  if (deferred_.empty()) {
    return;
  }
  std::vector<Task> batch;
  batch.swap(deferred_);
  for (Task& task : batch) {
    task();
  }
}

// ---- wake-ups, signals, shutdown ----

void Shard::arm_wake_read() {
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kWake, 0));
}

void Shard::arm_signal_read() {
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_read(sqe, signal_fd_, signal_buf_, sizeof(signalfd_siginfo), 0);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kSignal, 0));
}

void Shard::on_signal() {
  signalfd_siginfo info;
  std::memcpy(&info, signal_buf_, sizeof info);
  RM_LOG(kInfo, "signal").kv("signo", info.ssi_signo).kv("action", "shutdown");
  runtime_.request_shutdown();
  arm_signal_read();
}

void Shard::begin_drain() {
  if (draining_) {
    return;
  }
  draining_ = true;
  drain_deadline_ms_ = monotonic_ms() + options_.runtime.shutdown_drain_ms;
  for (uint32_t i = 0; i < listeners_.size(); ++i) {
    ShardListener& listener = listeners_[i];
    if (listener.accept_armed) {
      io_uring_sqe* sqe = ring_->next_sqe();
      io_uring_prep_cancel64(sqe, make_user_data(Op::kAccept, i), 0);
      io_uring_sqe_set_data64(sqe, make_user_data(Op::kCancel, 0));
    } else if (listener.fd >= 0) {
      ::close(listener.fd);
      listener.fd = -1;
    }
  }
  cancel_connects_for_shutdown();
  for (Slot& slot : slots_) {
    if (slot.conn && slot.conn->open() && !slot.conn->shutdown_called_) {
      slot.conn->shutdown_called_ = true;
      slot.conn->handler_->on_shutdown(*slot.conn);
      mark_dirty(*slot.conn);
    }
  }
  RM_LOG(kDebug, "drain_started").kv("open", uint64_t{live_connections_});
}

void Shard::check_drain_done() {
  if (!draining_ || live_connections_ > 0 || !connects_.empty()) {
    return;
  }
  for (const ShardListener& listener : listeners_) {
    if (listener.fd >= 0) {
      return;  // the accept cancellation has not come back yet
    }
  }
  stopped_ = true;
}

}  // namespace rm
