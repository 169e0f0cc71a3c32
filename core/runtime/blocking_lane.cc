#include "core/runtime/blocking_lane.h"

#include <pthread.h>
#include <sched.h>

#include "core/base/log.h"

namespace rm {

BlockingLane::BlockingLane(int shard_index, const std::vector<int>& cpus)
    : worker_([this, shard_index, cpus] { worker_main(shard_index, cpus); }) {}

BlockingLane::~BlockingLane() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  worker_.join();
}

void BlockingLane::push(Task job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void BlockingLane::worker_main(int shard_index, std::vector<int> cpus) {
  log_set_thread_shard(shard_index);
  if (!cpus.empty()) {  // undo the affinity inherited from the pinned shard thread
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : cpus) {
      CPU_SET(cpu, &set);
    }
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  for (;;) {
    Task job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        return;  // stopping, and every queued job has run
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

}  // namespace rm
