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

#include "core/base/task.h"

namespace rm {

class BlockingLane {
 public:
  explicit BlockingLane(int shard_index);
  ~BlockingLane();  // finishes the queued jobs, then joins
  BlockingLane(const BlockingLane&) = delete;
  BlockingLane& operator=(const BlockingLane&) = delete;

  void push(Task job);

 private:
  void worker_main(int shard_index);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> jobs_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace rm
