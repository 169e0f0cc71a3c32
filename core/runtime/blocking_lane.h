// BlockingLane: a worker thread beside a shard, for calls that block (RocksDB, fsync,
// file I/O) and so must never run on the reactor thread.
//
// The shard pushes jobs; the lane runs them in order; a job reports back by handing a Task
// to Shard::complete_from_lane(), which runs on the shard after the same wake-up as
// cross-shard messages. The queue is bounded by the shard (see Shard::run_blocking).
// Thread-safety: push/stop from the owning shard's thread; the worker is internal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "core/base/task.h"

namespace rm {

class BlockingLane {
 public:
  // `cpus`: where the worker may run. Not its shard's pinned CPU alone: the lane blocks and
  // hands work back and forth with the shard, and sharing one core makes every hand-off a
  // context switch on that core while the other may sit idle.
  BlockingLane(int shard_index, const std::vector<int>& cpus);
  ~BlockingLane();  // finishes the queued jobs, then joins
  BlockingLane(const BlockingLane&) = delete;
  BlockingLane& operator=(const BlockingLane&) = delete;

  void push(Task job);

 private:
  void worker_main(int shard_index, std::vector<int> cpus);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace rm
