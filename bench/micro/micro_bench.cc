// rm_micro_bench: Google Benchmark kernels for the runtime's hot data structures.
//
//   rm_micro_bench [--benchmark_filter=REGEX] [--benchmark_min_time=0.5] ...
//
// - SpscQueue<Task>: what one cross-shard submit_to costs (Task allocation, push, pop, run),
//   in one thread (no contention: the floor) and across two threads (cache-line transfer).
// - TimerWheel with 100k nodes: the per-connection deadline operations a busy shard does on
//   every request (schedule = move a deadline), cancel, expire; and next_due_ms(), which the
//   shard calls on every loop iteration.
// - log_append_value: the escaping every log field goes through.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/log.h"
#include "core/base/spsc_queue.h"
#include "core/base/task.h"
#include "core/reactor/timer_wheel.h"

namespace {

// ---- SpscQueue<Task> ----

// The default runtime.cross_shard_queue_capacity.
constexpr size_t kQueueCapacity = 4096;

// Push then pop and run in the same thread: the cost of the operations themselves.
void BM_SpscTaskSameThread(benchmark::State& state) {
  rm::SpscQueue<rm::Task> queue(kQueueCapacity);
  uint64_t ran = 0;
  for (auto _ : state) {
    rm::Task task([&ran] { ++ran; });
    benchmark::DoNotOptimize(queue.try_push(task));
    std::optional<rm::Task> out = queue.try_pop();
    (*out)();
  }
  benchmark::DoNotOptimize(ran);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpscTaskSameThread);

// A burst of `range(0)` tasks pushed, then drained: the queue's slots cycle through the cache
// the way they do when a shard sends a batch.
void BM_SpscTaskBurstSameThread(benchmark::State& state) {
  rm::SpscQueue<rm::Task> queue(kQueueCapacity);
  const auto burst = static_cast<size_t>(state.range(0));
  uint64_t ran = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < burst; ++i) {
      rm::Task task([&ran] { ++ran; });
      benchmark::DoNotOptimize(queue.try_push(task));
    }
    while (std::optional<rm::Task> out = queue.try_pop()) {
      (*out)();
    }
  }
  benchmark::DoNotOptimize(ran);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SpscTaskBurstSameThread)->Arg(64)->Arg(1024);

// Two threads, one queue: thread 0 produces, thread 1 consumes and runs. Google Benchmark
// runs the same number of iterations in each thread, so every pushed task is popped and the
// queue is empty when the run ends. Spinning on a full/empty queue is counted: that is the
// throughput a pair of shards gets when nothing else is in the way.
void BM_SpscTaskTwoThreads(benchmark::State& state) {
  static rm::SpscQueue<rm::Task> queue(kQueueCapacity);
  static std::atomic<uint64_t> ran{0};
  if (state.thread_index() == 0) {
    for (auto _ : state) {
      rm::Task task([] { ran.fetch_add(1, std::memory_order_relaxed); });
      while (!queue.try_push(task)) {
      }
    }
  } else {
    for (auto _ : state) {
      std::optional<rm::Task> out;
      while (!(out = queue.try_pop())) {
      }
      (*out)();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpscTaskTwoThreads)->Threads(2)->UseRealTime();

// ---- TimerWheel ----

constexpr size_t kTimerNodes = 100000;
constexpr uint32_t kTickMs = 10;  // the default runtime.timer_tick_ms
constexpr int64_t kStartMs = 1'000'000;

// Deadlines spread over 60 s (six turns of the 1024-slot wheel), a fixed seed so every run
// sees the same layout.
std::vector<int64_t> random_deadlines(size_t n, int64_t span_ms) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> dist(1, span_ms);
  std::vector<int64_t> out(n);
  for (int64_t& d : out) {
    d = kStartMs + dist(rng);
  }
  return out;
}

// Moving one deadline in a wheel that holds 100k: what LineEcho (and every session that
// sets an idle deadline per command) costs the shard per request.
void BM_TimerWheelReschedule(benchmark::State& state) {
  // Nodes first: the wheel's destructor unlinks what is still linked, so it must go first.
  std::vector<rm::TimerNode> nodes(kTimerNodes);
  rm::TimerWheel wheel(kTickMs, kStartMs);
  const std::vector<int64_t> deadlines = random_deadlines(kTimerNodes, 60000);
  for (size_t i = 0; i < kTimerNodes; ++i) {
    wheel.schedule(nodes[i], deadlines[i]);
  }
  size_t i = 0;
  for (auto _ : state) {
    // A different node each time, and a different deadline than it had: a real move.
    wheel.schedule(nodes[i], deadlines[(i * 7919) % kTimerNodes]);
    i = (i + 1 == kTimerNodes) ? 0 : i + 1;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerWheelReschedule);

// Schedule 100k nodes into an empty wheel, then cancel all of them; one iteration = both.
void BM_TimerWheelScheduleCancel100k(benchmark::State& state) {
  // Nodes first: the wheel's destructor unlinks what is still linked, so it must go first.
  std::vector<rm::TimerNode> nodes(kTimerNodes);
  rm::TimerWheel wheel(kTickMs, kStartMs);
  const std::vector<int64_t> deadlines = random_deadlines(kTimerNodes, 60000);
  for (auto _ : state) {
    for (size_t i = 0; i < kTimerNodes; ++i) {
      wheel.schedule(nodes[i], deadlines[i]);
    }
    for (rm::TimerNode& node : nodes) {
      wheel.cancel(node);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTimerNodes));
}
BENCHMARK(BM_TimerWheelScheduleCancel100k)->Unit(benchmark::kMillisecond);

// Expire 100k deadlines spread over 10 s by advancing the clock one tick at a time (as a
// shard does); scheduling is outside the timed region.
void BM_TimerWheelExpire100k(benchmark::State& state) {
  std::vector<rm::TimerNode> nodes(kTimerNodes);
  const std::vector<int64_t> deadlines = random_deadlines(kTimerNodes, 10000);
  std::vector<uint64_t> due;
  due.reserve(kTimerNodes);
  for (auto _ : state) {
    state.PauseTiming();
    auto wheel = std::make_unique<rm::TimerWheel>(kTickMs, kStartMs);
    for (size_t i = 0; i < kTimerNodes; ++i) {
      nodes[i].owner = i;
      wheel->schedule(nodes[i], deadlines[i]);
    }
    due.clear();
    state.ResumeTiming();
    for (int64_t now = kStartMs; wheel->size() > 0; now += kTickMs) {
      wheel->expire(now, due);
    }
    benchmark::DoNotOptimize(due.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(kTimerNodes));
}
BENCHMARK(BM_TimerWheelExpire100k)->Unit(benchmark::kMillisecond);

// next_due_ms() scans slots from the current tick to the first non-empty one. The shard calls
// it once per loop iteration (update_timer), so with few connections whose deadlines lie far
// ahead (LineEcho idle 60 s = 6000 ticks, i.e. ~880 slots ahead) each iteration pays a scan
// of most of the wheel. range(0) = slots between now and the only deadline.
void BM_TimerWheelNextDueSparse(benchmark::State& state) {
  rm::TimerNode node;  // declared first: destroyed after the wheel that links it
  rm::TimerWheel wheel(kTickMs, kStartMs);
  wheel.schedule(node, kStartMs + state.range(0) * kTickMs);
  for (auto _ : state) {
    benchmark::DoNotOptimize(wheel.next_due_ms());
  }
}
BENCHMARK(BM_TimerWheelNextDueSparse)->Arg(1)->Arg(128)->Arg(880)->Arg(1023);

// The dense case: 100k deadlines, the next slot is rarely empty.
void BM_TimerWheelNextDueDense100k(benchmark::State& state) {
  // Nodes first: the wheel's destructor unlinks what is still linked, so it must go first.
  std::vector<rm::TimerNode> nodes(kTimerNodes);
  rm::TimerWheel wheel(kTickMs, kStartMs);
  const std::vector<int64_t> deadlines = random_deadlines(kTimerNodes, 60000);
  for (size_t i = 0; i < kTimerNodes; ++i) {
    wheel.schedule(nodes[i], deadlines[i]);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(wheel.next_due_ms());
  }
}
BENCHMARK(BM_TimerWheelNextDueDense100k);

// ---- log_append_value ----

// Typical field values: bare tokens (ids, listener names, addresses, statuses) and the
// quoted kinds (free text with spaces, client-supplied bytes with quotes and control bytes).
void BM_LogAppendValue(benchmark::State& state, std::string_view value) {
  std::string out;
  out.reserve(256);
  for (auto _ : state) {
    out.clear();
    rm::log_append_value(out, value);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(value.size()));
}
BENCHMARK_CAPTURE(BM_LogAppendValue, token_short, std::string_view("smtp"));
BENCHMARK_CAPTURE(BM_LogAppendValue, token_number, std::string_view("1234567890123"));
BENCHMARK_CAPTURE(BM_LogAppendValue, peer_address, std::string_view("127.0.0.1:54321"));
BENCHMARK_CAPTURE(BM_LogAppendValue, status_text,
                  std::string_view("IoError: listener smtp: bind 127.0.0.1:25: Permission denied"));
BENCHMARK_CAPTURE(BM_LogAppendValue, client_bytes,
                  std::string_view("MAIL FROM:<\"evil\"@x>\r\nlevel=error \x1b[31m"));

}  // namespace
