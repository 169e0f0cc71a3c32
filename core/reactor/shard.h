// Shard: one reactor thread with its own io_uring ring, provided buffers, listeners,
// connections, timers and blocking lane. Shards share no mutable state; they exchange
// Tasks through the Runtime's bounded SPSC queues.
//
// The loop: run the Tasks other threads sent; flush output and re-arm receives; sleep in
// the kernel until a completion arrives; copy the ready completions into a run queue; then
// dispatch them (never from inside CQE iteration); then expire deadlines and timers.
//
// Besides accepted connections a shard makes outbound connections (connect()), watches
// descriptors it does not own (watch_fd()), runs one-shot timers (start_timer()) and tasks
// deferred to the end of the current batch (defer()): what a resolver or an SMTP client
// on the shard needs.
// Thread-safety: every method runs on the shard's own thread, except wake() and the queue
// producers reached through Runtime.
#pragma once

#include <liburing.h>
#include <sys/uio.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/base/spsc_queue.h"
#include "core/base/status.h"
#include "core/base/task.h"
#include "core/config/options.h"
#include "core/reactor/buffer_ring.h"
#include "core/reactor/connection.h"
#include "core/reactor/fd_watch.h"
#include "core/reactor/listener.h"
#include "core/reactor/outbound.h"
#include "core/reactor/ring.h"
#include "core/reactor/slot_table.h"
#include "core/reactor/timer_wheel.h"

namespace rm {

class Runtime;
class BlockingLane;

// Per-shard counters, read by tests and the control socket (relaxed atomics: a snapshot).
struct ShardCounters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> refused_overload{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> recv_enobufs{0};
  std::atomic<uint64_t> deadlines_fired{0};
  std::atomic<uint64_t> tasks_run{0};
  std::atomic<uint64_t> outbound_connected{0};
  std::atomic<uint64_t> outbound_failed{0};
};

struct ShardListener {
  const ListenerSpec* spec = nullptr;
  int fd = -1;
  bool accept_armed = false;
  int64_t retry_at_ms = 0;  // accept paused (EMFILE, ...) until then; 0 = not paused
};

class Shard {
 public:
  Shard(Runtime& runtime, int index, const Options& options);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  int index() const { return index_; }
  Runtime& runtime() { return runtime_; }
  const Options& options() const { return options_; }
  const ShardCounters& counters() const { return counters_; }
  std::string_view ring_mode() const { return ring_ ? ring_->mode() : "none"; }
  // The shard running on the calling thread, or nullptr.
  static Shard* current();

  // Called by Runtime before the thread starts: the listening sockets this shard serves.
  void add_listener(const ListenerSpec* spec, int fd);
  void set_signal_fd(int fd) { signal_fd_ = fd; }

  // The thread body. `started` receives the set-up status before the loop starts.
  Status run(const std::function<void(Status)>& started);

  // Runs `job` on this shard's blocking lane, then `done` back on this shard.
  // Fails with ResourceExhausted when runtime.blocking_queue_capacity jobs are pending.
  Status run_blocking(Task job_then_complete);
  // For a blocking-lane job: queue `done` to run on this shard. Called once per job, from
  // the job itself (the lane thread is the only producer of that queue).
  void complete_from_lane(Task done);

  // Stop accepting, ask every session to finish, force-close after the drain bound.
  void begin_drain();

  // -- outbound connections, descriptor watches, timers (this shard's thread only) --

  // Starts a TCP connect (see outbound.h). Later, on this thread and never inside this
  // call, exactly one of these runs: `on_connected` (it returns the handler; the handler's
  // on_open() follows) or `on_failed` — unless cancel_connect() comes first. Returns an id
  // for cancel_connect().
  uint64_t connect(const ConnectSpec& spec, HandlerFactory on_connected, ConnectFailed on_failed);
  // Abandons a connect still in progress; neither callback runs and the socket is closed
  // once the kernel lets go of it. False when `id` is no longer pending.
  bool cancel_connect(uint64_t id);
  size_t pending_connects() const { return connects_.size(); }

  // Reports readiness of `fd` (POLLIN and/or POLLOUT in `events`) to `callback` until
  // unwatch_fd(); see fd_watch.h. The fd stays the caller's: unwatch it before closing it.
  // When the poll itself fails (a bad descriptor) the callback gets POLLERR | POLLNVAL once
  // and the watch goes quiet.
  uint64_t watch_fd(int fd, uint32_t events, WatchCallback callback,
                    WatchMode mode = WatchMode::kLevel);
  // No callback for `id` runs after this returns. Unknown ids are ignored.
  void unwatch_fd(uint64_t id);
  size_t fd_watches() const { return watches_.size(); }

  // Runs `callback` once at `deadline_ms` (monotonic; rounded up to runtime.timer_tick_ms).
  using TimerCallback = std::function<void()>;
  uint64_t start_timer(int64_t deadline_ms, TimerCallback callback);
  // False when the timer already ran or was cancelled.
  bool cancel_timer(uint64_t id);

  // Runs `task` on this shard after its loop ends, before its ring and lane go: where
  // parts built on the shard (timers, watches, resolvers) are taken down.
  void at_exit(Task task) { exit_tasks_.push_back(std::move(task)); }

  // Runs `task` on this shard once the current batch of completions has been handled:
  // later, but before the shard sleeps. For callbacks that must not run inside the caller.
  void defer(Task task);

  // -- for Connection --
  void mark_dirty(Connection& conn);
  void mark_resume(Connection& conn);
  void schedule_deadline(Connection& conn, int64_t deadline_ms);
  void cancel_deadline(Connection& conn);
  void cancel_recv(Connection& conn);
  size_t open_connections() const { return live_connections_; }

  // -- for Runtime (other threads) --
  SpscQueue<Task>& inbox_from(int source) { return *inbox_[static_cast<size_t>(source)]; }
  void post_external(Task task);
  void wake();
  bool queue_to(int target, Task& task);  // shard thread: to the SPSC for `target`
  void add_backlog(int target, Task task);
  // Shard `source` holds a backlog for this shard: wake it when its queue has room again.
  void note_backlog_from(int source);

 private:
  struct Completion {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
  };
  struct Slot {
    std::unique_ptr<Connection> conn;
    uint32_t generation = 1;
  };

  Status set_up();
  void loop();
  bool run_inbox();
  bool inbox_nonempty() const;
  void flush_backlogs();
  void reap();
  void dispatch(const Completion& c);
  void after_batch();

  void arm_accept(ShardListener& listener, uint32_t index);
  void on_accept(uint32_t listener_index, const Completion& c);
  void retry_accepts(int64_t now_ms);
  void open_connection(const ShardListener& listener, int fd);
  // Registers a connection on `fd` (the shard owns the fd from here on).
  Connection& register_connection(int fd, std::string peer, std::string_view name, bool counted,
                                  size_t output_bytes_max);
  // Builds its handler, arms its receive and runs on_open().
  void start_connection(Connection& conn, const HandlerFactory& factory);
  void refuse_overloaded(const ShardListener& listener, int fd);
  Connection* find(uint64_t key);
  void arm_recv(Connection& conn);
  void on_recv(Connection& conn, const Completion& c);
  void flush(Connection& conn);
  void on_send(Connection& conn, const Completion& c);
  void progress_close(Connection& conn);
  void release(Connection& conn);
  // Frees the connection's slot (closing its socket unless it moved away).
  void free_slot(Connection& conn);
  // Connection::move_to_shard(): the socket goes to its new shard, which adopts it.
  void hand_over(Connection& conn);
  struct MovedConnection;
  void adopt(std::unique_ptr<MovedConnection> moved);

  // outbound.cc
  enum class ConnectCancel : uint8_t { kNone, kByCaller, kShutdown };
  struct PendingConnect {
    int fd = -1;
    SocketAddress destination;  // the kernel reads it while the connect is in flight
    __kernel_timespec timeout{};
    size_t output_bytes_max = 0;
    HandlerFactory on_connected;
    ConnectFailed on_failed;
    bool submitted = false;  // an SQE is in flight
    ConnectCancel cancel = ConnectCancel::kNone;
  };
  Status open_connect_socket(const ConnectSpec& spec, PendingConnect& pending);
  void submit_connect(uint64_t key, PendingConnect& pending, uint32_t timeout_ms);
  void on_connect(uint64_t key, const Completion& c);
  void fail_connect_later(uint64_t key, Status status);
  void cancel_connects_for_shutdown();

  // fd_watch.cc
  struct FdWatch {
    int fd = -1;
    uint32_t events = 0;
    WatchMode mode = WatchMode::kLevel;
    // Shared so that a callback that unwatches itself is not destroyed while it runs.
    std::shared_ptr<WatchCallback> callback;
    bool armed = false;      // a poll is in flight
    bool multishot = false;  // ... and it is a multishot one
  };
  void arm_watch(uint64_t key, FdWatch& watch);
  void on_watch(uint64_t key, const Completion& c);

  struct ShardTimer {
    TimerNode node;
    TimerCallback callback;
  };
  void fire_timer(uint64_t key);
  void run_deferred();

  void arm_wake_read();
  void arm_signal_read();
  void on_signal();
  void update_timer();
  void expire_deadlines();
  void check_drain_done();

  Runtime& runtime_;
  const int index_;
  const Options options_;
  ShardCounters counters_;

  std::unique_ptr<Ring> ring_;
  std::unique_ptr<BufferRing> buffers_;
  std::vector<ShardListener> listeners_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  size_t live_connections_ = 0;
  size_t limited_connections_ = 0;  // those that count toward limits.connections_max
  size_t connections_max_ = 0;
  uint64_t next_log_serial_ = 0;

  std::vector<Completion> run_queue_;
  std::vector<uint64_t> dirty_;
  std::vector<uint64_t> resume_;
  std::vector<uint64_t> rearm_;
  std::vector<uint64_t> due_;

  SlotTable<PendingConnect> connects_;
  SlotTable<FdWatch> watches_;
  bool multishot_poll_ = true;  // until the kernel refuses one
  std::vector<Task> deferred_;
  std::vector<Task> exit_tasks_;
  // Declared before timers_ so that it is destroyed after it: the wheel unlinks the nodes
  // still scheduled when it goes, and they must still exist then.
  SlotTable<ShardTimer> shard_timers_;
  std::unique_ptr<TimerWheel> timers_;
  std::optional<int64_t> timer_armed_ms_;
  uint64_t timer_generation_ = 0;
  __kernel_timespec timer_ts_{};

  // Cross-shard: inbox_[s] carries Tasks from shard s (and from the blocking lane at
  // index shards()); backlog_[t] holds Tasks for shard t while its queue is full.
  std::vector<std::unique_ptr<SpscQueue<Task>>> inbox_;
  std::vector<std::deque<Task>> backlog_;
  std::vector<std::atomic<bool>> backlogged_;  // [s]: shard s waits for room in inbox_[s]
  std::mutex external_mu_;
  std::deque<Task> external_;
  std::atomic<bool> external_nonempty_{false};
  std::atomic<bool> sleeping_{false};
  int wake_fd_ = -1;
  uint64_t wake_buf_ = 0;

  std::unique_ptr<BlockingLane> lane_;
  size_t lane_outstanding_ = 0;

  int signal_fd_ = -1;
  uint8_t signal_buf_[128] = {};
  bool draining_ = false;
  int64_t drain_deadline_ms_ = 0;
  bool stopped_ = false;
};

}  // namespace rm
