#include "core/runtime/runtime.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <future>

#include "core/base/log.h"
#include "core/reactor/ring.h"

namespace rm {

void block_shutdown_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
}

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) {
        cpus.push_back(cpu);
      }
    }
  }
  if (cpus.empty()) {
    cpus.push_back(0);
  }
  return cpus;
}

Runtime::Runtime(const Options& options) : options_(options), cpus_(allowed_cpus()) {
  const size_t shards =
      options.runtime.shards != 0 ? options.runtime.shards : cpus_.size();
  // Shards are built now so that each can size its inboxes for the others; their rings are
  // created later, on their own threads (SINGLE_ISSUER).
  for (size_t i = 0; i < shards; ++i) {
    shards_.push_back(nullptr);
  }
  for (size_t i = 0; i < shards; ++i) {
    shards_[i] = std::make_unique<Shard>(*this, static_cast<int>(i), options_);
  }
}

Runtime::~Runtime() {
  if (started_) {
    request_shutdown();
    (void)wait();
  }
  if (signal_fd_ >= 0) {
    ::close(signal_fd_);
  }
}

void Runtime::add_listener(ListenerSpec spec) {
  RM_ASSERT_MSG(!started_, "listeners are added before start()");
  specs_.push_back(std::make_unique<ListenerSpec>(std::move(spec)));
}

uint16_t Runtime::bound_port(const std::string& listener_name) const {
  for (size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i]->name == listener_name && i < bound_ports_.size()) {
      return bound_ports_[i];
    }
  }
  return 0;
}

Status Runtime::open_listeners() {
  for (const auto& spec : specs_) {
    uint16_t port = 0;
    const size_t owners = spec->unix_path.empty() ? shards_.size() : 1;
    for (size_t i = 0; i < owners; ++i) {
      uint16_t bound = 0;
      // The first socket may pick a port (spec port 0); the others must share it.
      Result<int> fd = open_listen_socket(*spec, port, &bound);
      if (!fd.ok()) {
        return fd.status();
      }
      port = bound;
      shards_[i]->add_listener(spec.get(), *fd);
    }
    bound_ports_.push_back(port);
    RM_LOG(kInfo, "listening")
        .kv("listener", spec->name)
        .kv("address", spec->unix_path.empty() ? spec->address + ":" + std::to_string(port)
                                               : spec->unix_path)
        .kv("shards", uint64_t{owners});
  }
  return Status::Ok();
}

Status Runtime::start(RuntimeStart how) {
  RM_ASSERT(!started_);
  RM_RETURN_IF_ERROR(check_kernel_version());
  ::signal(SIGPIPE, SIG_IGN);
  if (how.handle_signals) {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    // Blocked before the shard threads exist, so they inherit the mask and the signals are
    // only ever read from the signalfd (threads started earlier: see block_shutdown_signals).
    block_shutdown_signals();
    signal_fd_ = ::signalfd(-1, &mask, SFD_CLOEXEC);
    if (signal_fd_ < 0) {
      return Status::FromErrno("signalfd", errno);
    }
    shards_[0]->set_signal_fd(signal_fd_);
  }
  RM_RETURN_IF_ERROR(open_listeners());
  started_ = true;
  on_shard_exit_ = std::move(how.on_shard_exit);
  return start_shards();
}

Status Runtime::start_shards() {
  results_.resize(shards_.size());
  std::vector<std::promise<Status>> ready(shards_.size());
  std::vector<std::future<Status>> ready_futures;
  for (auto& promise : ready) {
    ready_futures.push_back(promise.get_future());
  }
  for (size_t i = 0; i < shards_.size(); ++i) {
    threads_.emplace_back([this, i, promise = &ready[i]] {
      if (options_.runtime.pin_threads) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpus_[i % cpus_.size()], &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      }
      results_[i] = shards_[i]->run([promise](Status s) { promise->set_value(std::move(s)); });
      if (on_shard_exit_) {
        on_shard_exit_();
      }
    });
  }
  Status first_error;
  for (auto& future : ready_futures) {
    Status s = future.get();
    if (!s.ok() && first_error.ok()) {
      first_error = std::move(s);
    }
  }
  if (!first_error.ok()) {
    request_shutdown();
    (void)wait();
    return first_error;
  }
  RM_LOG(kInfo, "runtime_started")
      .kv("shards", uint64_t{shards_.size()})
      .kv("ring", shards_[0]->ring_mode());
  return Status::Ok();
}

Status Runtime::wait() {
  for (std::thread& thread : threads_) {
    if (thread.joinable()) {
      thread.join();
    }
  }
  threads_.clear();
  started_ = false;
  for (const Status& s : results_) {
    if (!s.ok()) {
      return s;
    }
  }
  return Status::Ok();
}

void Runtime::request_shutdown() {
  if (shutdown_requested_.exchange(true)) {
    return;
  }
  for (auto& shard : shards_) {
    Shard* target = shard.get();
    target->post_external([target] { target->begin_drain(); });
  }
}

void Runtime::submit_to(int target, Task task) {
  Shard* self = Shard::current();
  RM_ASSERT_MSG(self != nullptr && &self->runtime() == this, "submit_to runs on a shard thread");
  if (self->index() == target) {
    task();
    return;
  }
  if (!self->queue_to(target, task)) {
    self->add_backlog(target, std::move(task));  // sent by the caller's loop when room frees
  }
  shard(target).wake();
}

void Runtime::post(int target, Task task) {
  Shard* self = Shard::current();
  if (self != nullptr && &self->runtime() == this) {
    submit_to(target, std::move(task));
    return;
  }
  shard(target).post_external(std::move(task));
}

}  // namespace rm
