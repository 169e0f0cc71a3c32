// Runtime: the set of shards, one pinned thread each, and the way to reach them.
//
//   Runtime rt(options);
//   rt.add_listener(spec);            // before start()
//   RM_RETURN_IF_ERROR(rt.start());   // listening sockets open, every shard running
//   rt.submit_to(1, [] { ... });      // from a shard: runs on shard 1
//   Status s = rt.wait();             // returns after shutdown (SIGTERM/SIGINT or request)
//
// submit_to() from a shard thread goes through the bounded SPSC queue for that ordered pair
// of shards and wakes the target only when it sleeps; when the caller is the target it runs
// inline. post() does the same from any other thread.
// Thread-safety: start/wait from one controlling thread; post, request_shutdown and the
// accessors from any thread; submit_to from shard threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/base/status.h"
#include "core/base/task.h"
#include "core/config/options.h"
#include "core/reactor/listener.h"
#include "core/reactor/shard.h"

namespace rm {

struct RuntimeStart {
  bool handle_signals = true;  // SIGTERM/SIGINT through a signalfd on shard 0
  // Runs on each shard thread just before it ends (e.g. to free a library's thread caches).
  std::function<void()> on_shard_exit;
};

class Runtime {
 public:
  explicit Runtime(const Options& options);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  void add_listener(ListenerSpec spec);
  Status start(RuntimeStart how = {});
  // Blocks until every shard has stopped; returns the first shard's error, if any.
  Status wait();
  void request_shutdown();

  int shard_count() const { return static_cast<int>(shards_.size()); }
  // The CPUs the process was allowed when the runtime was made.
  const std::vector<int>& cpus() const { return cpus_; }
  Shard& shard(int index) { return *shards_[static_cast<size_t>(index)]; }
  // The port a TCP listener bound (useful when its spec said 0). 0 if unknown.
  uint16_t bound_port(const std::string& listener_name) const;

  void submit_to(int target, Task task);
  void post(int target, Task task);

 private:
  Status open_listeners();
  Status start_shards();
  void shard_main(int index);

  Options options_;
  std::vector<std::unique_ptr<ListenerSpec>> specs_;
  std::vector<uint16_t> bound_ports_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<std::thread> threads_;
  std::vector<Status> results_;
  std::vector<int> cpus_;
  int signal_fd_ = -1;
  std::atomic<bool> shutdown_requested_{false};
  std::function<void()> on_shard_exit_;
  bool started_ = false;
};

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it starts later;
// the runtime then reads them from a signalfd. Call it first thing in main(), before any
// library (RocksDB, ...) starts threads that would otherwise take the default action.
void block_shutdown_signals();

// The CPUs this process may run on, in order.
std::vector<int> allowed_cpus();

}  // namespace rm
