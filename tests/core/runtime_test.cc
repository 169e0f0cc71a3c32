// The runtime against real sockets on 127.0.0.1: echo traffic, back-pressure, deadlines,
// cross-shard tasks, the blocking lane, shutdown and the connection limits.
#include "core/runtime/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/services/line_echo.h"
#include "tests/core/test_client.h"

namespace rm {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::EchoJob;
using test::now_ms;
using test::run_echo_jobs;

Options options_with_shards(uint32_t shards) {
  Options options;
  options.runtime.shards = shards;
  return options;
}

// A started Runtime with one listener "test" on 127.0.0.1:0 (none if `factory` is empty).
class TestServer {
 public:
  explicit TestServer(const Options& options, HandlerFactory factory = {},
                      std::string overload_reply = "")
      : rt_(options) {
    if (factory) {
      rt_.add_listener(
          ListenerSpec{"test", "127.0.0.1", 0, "", std::move(factory), std::move(overload_reply)});
    }
    const Status status = rt_.start(RuntimeStart{.handle_signals = false});
    EXPECT_TRUE(status.ok()) << status.to_string();
    port_ = rt_.bound_port("test");
  }

  Runtime& rt() { return rt_; }
  uint16_t port() const { return port_; }
  Client connect() { return Client::tcp(port_); }

  uint64_t total(std::atomic<uint64_t> ShardCounters::*counter) {
    uint64_t sum = 0;
    for (int i = 0; i < rt_.shard_count(); ++i) {
      sum += (rt_.shard(i).counters().*counter).load();
    }
    return sum;
  }

  // Runs rt.wait() with a bound; false if it did not return in time.
  bool wait_stopped(std::chrono::milliseconds bound, Status* status) {
    waiter_ = std::async(std::launch::async, [this] { return rt_.wait(); });
    if (waiter_.wait_for(bound) != std::future_status::ready) {
      return false;
    }
    *status = waiter_.get();
    return true;
  }

 private:
  Runtime rt_;
  uint16_t port_ = 0;
  std::future<Status> waiter_;
};

template <typename T>
bool ready_within(std::future<T>& future, std::chrono::milliseconds bound = 5s) {
  return future.wait_for(bound) == std::future_status::ready;
}

// Sends `line` and expects it back.
void expect_echo(Client& client, const std::string& line) {
  ASSERT_TRUE(client.send_all(line));
  EXPECT_EQ(client.read_line(), line);
}

TEST(RuntimeTest, ManyConnectionsGetTheirOwnPipelinedLinesBackInOrder) {
  test::ensure_fd_limit(4096);
  TestServer server(options_with_shards(2), LineEcho::factory({}));
  constexpr int kConnections = 500;
  constexpr int kLines = 50;
  std::vector<EchoJob> jobs(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    EchoJob& job = jobs[static_cast<size_t>(c)];
    job.client = server.connect();
    ASSERT_TRUE(job.client.ok()) << "connection " << c;
    for (int l = 0; l < kLines; ++l) {
      job.payload += "conn " + std::to_string(c) + " line " + std::to_string(l) + " " +
                     std::string(static_cast<size_t>((c * 7 + l * 13) % 41), 'x') + "\n";
    }
    job.pieces = {1, 7, 13, 64, 3, 29};  // odd sizes: most lines span several writes
  }
  ASSERT_TRUE(run_echo_jobs(jobs, 15000));
  for (int c = 0; c < kConnections; ++c) {
    const EchoJob& job = jobs[static_cast<size_t>(c)];
    EXPECT_FALSE(job.closed) << "connection " << c;
    ASSERT_EQ(job.received, job.payload) << "connection " << c;
  }
  EXPECT_EQ(server.total(&ShardCounters::accepted), uint64_t{kConnections});
}

TEST(RuntimeTest, ExhaustedReceiveBuffersApplyBackPressureWithoutLosingBytes) {
  test::ensure_fd_limit(4096);
  Options options = options_with_shards(2);
  options.runtime.recv_buffer_count = 4;
  options.runtime.recv_buffer_size = 512;
  TestServer server(options, LineEcho::factory({}));
  constexpr int kConnections = 200;
  constexpr size_t kBytes = 64 * 1024;
  std::vector<EchoJob> jobs(kConnections);
  for (int c = 0; c < kConnections; ++c) {
    EchoJob& job = jobs[static_cast<size_t>(c)];
    job.client = server.connect();
    ASSERT_TRUE(job.client.ok()) << "connection " << c;
    for (int l = 0; job.payload.size() < kBytes; ++l) {
      job.payload += std::to_string(c) + ":" + std::to_string(l) + " " +
                     std::string(static_cast<size_t>(l % 97), 'a' + static_cast<char>(c % 26)) +
                     "\n";
    }
  }
  ASSERT_TRUE(run_echo_jobs(jobs, 15000));
  for (int c = 0; c < kConnections; ++c) {
    const EchoJob& job = jobs[static_cast<size_t>(c)];
    ASSERT_EQ(job.received.size(), job.payload.size()) << "connection " << c;
    ASSERT_EQ(job.received, job.payload) << "connection " << c;
  }
  EXPECT_GT(server.total(&ShardCounters::recv_enobufs), 0u);
  jobs.clear();
  Client fresh = server.connect();
  expect_echo(fresh, "still serving\n");
}

TEST(RuntimeTest, IdleDeadlineClosesOnlyIdleConnections) {
  LineEchoOptions echo;
  echo.idle_ms = 150;
  TestServer server(options_with_shards(2), LineEcho::factory(echo));

  const int64_t start = now_ms();
  Client idle = server.connect();
  EXPECT_EQ(idle.read_line(3000), "ERR idle timeout\n");
  const int64_t elapsed = now_ms() - start;
  EXPECT_GE(elapsed, 150);
  EXPECT_LE(elapsed, 2000);
  EXPECT_TRUE(idle.closed_without_data(2000));

  Client active = server.connect();
  const int64_t active_start = now_ms();
  for (int i = 1; now_ms() - active_start < 600; ++i) {
    expect_echo(active, "ping " + std::to_string(i) + "\n");
    std::this_thread::sleep_until(std::chrono::steady_clock::now() + 50ms);
  }
  // Silent from now on: the deadline comes.
  EXPECT_EQ(active.read_line(3000), "ERR idle timeout\n");
  EXPECT_TRUE(active.closed_without_data(2000));
  EXPECT_GE(server.total(&ShardCounters::deadlines_fired), 2u);
}

struct Where {
  int shard = -1;
  std::thread::id thread;
  static Where here() {
    return {Shard::current() ? Shard::current()->index() : -1, std::this_thread::get_id()};
  }
};

TEST(RuntimeTest, SubmitToRunsOnTheTargetShardAndInlineOnItself) {
  TestServer server(options_with_shards(2));
  Runtime& rt = server.rt();
  Where first, remote, back;
  bool inline_ran_before_return = false;
  std::promise<void> done;
  rt.post(0, [&] {
    first = Where::here();
    bool ran = false;
    rt.submit_to(0, [&ran] { ran = true; });
    inline_ran_before_return = ran;
    rt.submit_to(1, [&] {
      remote = Where::here();
      rt.submit_to(0, [&] {
        back = Where::here();
        done.set_value();
      });
    });
  });
  std::future<void> finished = done.get_future();
  ASSERT_TRUE(ready_within(finished));
  EXPECT_EQ(first.shard, 0);
  EXPECT_EQ(remote.shard, 1);
  EXPECT_EQ(back.shard, 0);
  EXPECT_EQ(back.thread, first.thread);
  EXPECT_NE(remote.thread, first.thread);
  EXPECT_NE(first.thread, std::this_thread::get_id());
  EXPECT_TRUE(inline_ran_before_return);

  // post() from a thread outside the runtime reaches the shard too.
  std::promise<Where> posted;
  rt.post(1, [&posted] { posted.set_value(Where::here()); });
  std::future<Where> posted_where = posted.get_future();
  ASSERT_TRUE(ready_within(posted_where));
  EXPECT_EQ(posted_where.get().thread, remote.thread);
}

TEST(RuntimeTest, CrossShardTasksBeyondTheQueueCapacityArriveInOrder) {
  Options options = options_with_shards(2);
  options.runtime.cross_shard_queue_capacity = 8;
  TestServer server(options);
  Runtime& rt = server.rt();
  constexpr int kTasks = 100000;
  std::vector<int> arrived;  // touched only on shard 1
  arrived.reserve(kTasks);
  std::promise<void> done;
  rt.post(0, [&] {
    for (int i = 0; i < kTasks; ++i) {
      rt.submit_to(1, [&, i] {
        arrived.push_back(i);
        if (i == kTasks - 1) {
          done.set_value();
        }
      });
    }
  });
  std::future<void> finished = done.get_future();
  ASSERT_TRUE(ready_within(finished, 15s));
  ASSERT_EQ(arrived.size(), size_t{kTasks});
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_EQ(arrived[static_cast<size_t>(i)], i);
  }
}

TEST(RuntimeTest, BlockingLaneRunsOffTheShardWhileTheShardKeepsServing) {
  TestServer server(options_with_shards(1), LineEcho::factory({}));
  Client client = server.connect();
  expect_echo(client, "before\n");

  std::thread::id lane_thread;
  Where submitted, completed;
  std::promise<void> job_started, done_ran;
  std::atomic<bool> done_flag{false};
  server.rt().post(0, [&] {
    submitted = Where::here();
    Shard& shard = *Shard::current();
    const Status status = shard.run_blocking([&] {
      lane_thread = std::this_thread::get_id();
      job_started.set_value();
      std::this_thread::sleep_for(2000ms);  // long enough for a loaded CI machine
      shard.complete_from_lane([&] {
        completed = Where::here();
        done_flag = true;
        done_ran.set_value();
      });
    });
    EXPECT_TRUE(status.ok()) << status.to_string();
  });
  std::future<void> started = job_started.get_future();
  ASSERT_TRUE(ready_within(started));
  const int64_t t0 = now_ms();
  expect_echo(client, "during\n");
  EXPECT_LT(now_ms() - t0, 2000);
  EXPECT_FALSE(done_flag.load()) << "the echo should have been served while the job slept";

  std::future<void> finished = done_ran.get_future();
  ASSERT_TRUE(ready_within(finished));
  EXPECT_NE(lane_thread, submitted.thread);
  EXPECT_EQ(completed.thread, submitted.thread);
  EXPECT_EQ(completed.shard, 0);
}

TEST(RuntimeTest, BlockingLaneRefusesJobsBeyondItsCapacity) {
  Options options = options_with_shards(1);
  options.runtime.blocking_queue_capacity = 2;
  TestServer server(options);
  std::atomic<bool> release{false};
  std::atomic<int> completed{0};
  auto blocked_job = [&](Shard& shard) {
    return [&release, &completed, &shard] {
      const int64_t give_up = now_ms() + 5000;
      while (!release && now_ms() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
      shard.complete_from_lane([&completed] { ++completed; });
    };
  };
  auto try_jobs = [&](int n) {
    std::promise<std::vector<Status>> results;
    server.rt().post(0, [&] {
      std::vector<Status> statuses;
      for (int i = 0; i < n; ++i) {
        statuses.push_back(Shard::current()->run_blocking(blocked_job(*Shard::current())));
      }
      results.set_value(std::move(statuses));
    });
    std::future<std::vector<Status>> future = results.get_future();
    EXPECT_TRUE(ready_within(future));
    return future.get();
  };

  const std::vector<Status> first = try_jobs(3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_TRUE(first[0].ok());
  EXPECT_TRUE(first[1].ok());
  EXPECT_EQ(first[2].code(), StatusCode::kResourceExhausted);

  release = true;
  const int64_t give_up = now_ms() + 5000;
  while (completed < 2 && now_ms() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(completed.load(), 2);
  // Completions free their places.
  const std::vector<Status> again = try_jobs(2);
  EXPECT_TRUE(again[0].ok());
  EXPECT_TRUE(again[1].ok());
}

TEST(RuntimeTest, ShutdownSaysGoodbyeToEveryOpenConnection) {
  TestServer server(options_with_shards(2), LineEcho::factory({}));
  std::vector<Client> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(server.connect());
    expect_echo(clients.back(), "hello " + std::to_string(i) + "\n");
  }
  server.rt().request_shutdown();
  for (Client& client : clients) {
    bool closed = false;
    EXPECT_EQ(client.read_until_closed(5000, &closed), "BYE shutting down\n");
    EXPECT_TRUE(closed);
  }
  Status status;
  ASSERT_TRUE(server.wait_stopped(5s, &status));
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_FALSE(server.connect().ok()) << "the listeners should be closed";
}

TEST(RuntimeTest, ShutdownIsNotHeldUpByAClientThatStopsReading) {
  Options options = options_with_shards(1);
  options.runtime.shutdown_drain_ms = 300;
  options.limits.output_buffer_bytes_max = 64 << 20;
  TestServer server(options, LineEcho::factory({}));
  Client stuck = server.connect();
  // A fixed receive buffer (no autotuning), still well above the loopback MSS.
  const int rcvbuf = 256 * 1024;
  ::setsockopt(stuck.fd(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  // Echoes fill the socket buffers, then wait in the connection's output queue.
  const std::string line = std::string(1023, 's') + "\n";
  uint64_t sent = 0;
  while (sent < (8u << 20) && stuck.send_all(line, 2000)) {
    sent += line.size();
  }
  const int64_t give_up = now_ms() + 5000;
  while (server.total(&ShardCounters::bytes_in) < sent && now_ms() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_GT(server.total(&ShardCounters::bytes_in),
            server.total(&ShardCounters::bytes_out) + (1 << 20));

  const int64_t start = now_ms();
  server.rt().request_shutdown();
  Status status;
  ASSERT_TRUE(server.wait_stopped(5s, &status));
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_GE(now_ms() - start, 300);  // the goodbye could not be sent: the drain bound ended it
}

TEST(RuntimeTest, HalfCloseGetsEveryEchoThenEof) {
  TestServer server(options_with_shards(2), LineEcho::factory({}));
  Client client = server.connect();
  std::string lines;
  for (int i = 0; i < 100; ++i) {
    lines += "line " + std::to_string(i) + "\n";
  }
  ASSERT_TRUE(client.send_all(lines + "no newline"));
  ASSERT_EQ(::shutdown(client.fd(), SHUT_WR), 0);
  bool closed = false;
  EXPECT_EQ(client.read_until_closed(5000, &closed), lines);
  EXPECT_TRUE(closed);
}

// A session that ignores the shutdown request: only the drain bound ends it.
class Stubborn final : public ConnectionHandler {
 public:
  void on_open(Connection& conn) override { conn.write("hi\n"); }
  size_t on_data(Connection& /*conn*/, std::string_view input) override { return input.size(); }
  void on_shutdown(Connection& /*conn*/) override {}
};

TEST(RuntimeTest, ShutdownClosesSessionsThatIgnoreItAfterTheDrainBound) {
  Options options = options_with_shards(2);
  options.runtime.shutdown_drain_ms = 300;
  TestServer server(options, [](Connection&) { return std::make_unique<Stubborn>(); });
  std::vector<Client> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(server.connect());
    ASSERT_EQ(clients.back().read_line(), "hi\n");
  }
  const int64_t start = now_ms();
  server.rt().request_shutdown();
  Status status;
  ASSERT_TRUE(server.wait_stopped(5s, &status));
  const int64_t elapsed = now_ms() - start;
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_GE(elapsed, 300);
  EXPECT_LT(elapsed, 3000);
  for (Client& client : clients) {
    EXPECT_TRUE(client.closed_without_data(2000));
  }
}

TEST(RuntimeTest, ConnectionsBeyondTheLimitGetTheOverloadReply) {
  Options options = options_with_shards(1);
  options.limits.connections_max = 4;
  TestServer server(options, LineEcho::factory({}), "421 busy\r\n");
  std::vector<Client> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(server.connect());
    expect_echo(clients.back(), "in " + std::to_string(i) + "\n");
  }
  Client fifth = server.connect();
  bool closed = false;
  EXPECT_EQ(fifth.read_until_closed(5000, &closed), "421 busy\r\n");
  EXPECT_TRUE(closed);
  EXPECT_EQ(server.total(&ShardCounters::refused_overload), 1u);
  for (Client& client : clients) {
    expect_echo(client, "still in\n");
  }

  // A place freed is a place for the next client.
  clients.pop_back();
  const int64_t give_up = now_ms() + 5000;
  while (server.total(&ShardCounters::open) > 3 && now_ms() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  Client next = server.connect();
  expect_echo(next, "my turn\n");
}

TEST(RuntimeTest, LineLongerThanTheLimitIsRefused) {
  LineEchoOptions echo;
  echo.line_bytes_max = 100;
  TestServer server(options_with_shards(2), LineEcho::factory(echo));
  bool closed = false;

  Client fits = server.connect();
  expect_echo(fits, std::string(100, 'a') + "\n");

  Client whole = server.connect();  // a long line arriving with its LF
  ASSERT_TRUE(whole.send_all("ok\n" + std::string(101, 'b') + "\n"));
  EXPECT_EQ(whole.read_until_closed(5000, &closed), "ok\nERR line too long\n");
  EXPECT_TRUE(closed);

  Client pieces = server.connect();  // a long line still without its LF
  ASSERT_TRUE(pieces.send_all(std::string(60, 'c')));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(pieces.send_all(std::string(60, 'c')));
  EXPECT_EQ(pieces.read_until_closed(5000, &closed), "ERR line too long\n");
  EXPECT_TRUE(closed);
}

TEST(RuntimeTest, UnconsumedInputBeyondTheLimitClosesTheConnection) {
  Options options = options_with_shards(1);
  options.limits.input_buffer_bytes_max = 1024;
  LineEchoOptions echo;
  echo.line_bytes_max = 1 << 20;  // the connection's limit, not the handler's, applies
  TestServer server(options, LineEcho::factory(echo));
  Client client = server.connect();
  ASSERT_TRUE(client.send_all(std::string(600, 'x')));
  ASSERT_TRUE(client.send_all(std::string(600, 'x')));
  EXPECT_TRUE(client.closed_without_data(5000));
  Client next = server.connect();
  expect_echo(next, "fine\n");
}

TEST(RuntimeTest, UnreadOutputBeyondTheLimitClosesTheConnection) {
  Options options = options_with_shards(1);
  options.limits.output_buffer_bytes_max = 64 * 1024;
  TestServer server(options, LineEcho::factory({}));
  Client client = server.connect();
  // Lines whose echoes this client does not read, until the server gives up on it.
  const std::string line = std::string(1023, 'z') + "\n";
  size_t sent = 0;
  const int64_t give_up = now_ms() + 10000;
  while (server.total(&ShardCounters::closed) == 0 && now_ms() < give_up) {
    if (client.send_all(line, 50)) {
      sent += line.size();
    }
  }
  ASSERT_EQ(server.total(&ShardCounters::closed), 1u);
  bool closed = false;
  const size_t received = client.read_until_closed(10000, &closed).size();
  EXPECT_TRUE(closed);
  EXPECT_LT(received, sent);
  Client next = server.connect();
  expect_echo(next, "fine\n");
}

}  // namespace
}  // namespace rm

namespace rm {
namespace {

// Answers each line with "<shard>:<line>"; "move N" moves the connection to shard N first
// (what an IMAP session does after login).
class MovingEcho final : public ConnectionHandler {
 public:
  void on_open(Connection& conn) override { conn.write(std::to_string(conn.shard().index()) + ":hello\n"); }
  size_t on_data(Connection& conn, std::string_view input) override {
    size_t used = 0;
    while (true) {
      const size_t end = input.find('\n', used);
      if (end == std::string_view::npos) return used;
      const std::string_view line = input.substr(used, end - used);
      used = end + 1;
      if (line.substr(0, 5) == "move ") {
        conn.write(std::to_string(conn.shard().index()) + ":moving\n");
        conn.move_to_shard(line[5] - '0');
        return used;  // the rest is read on the new shard
      }
      conn.write(std::to_string(conn.shard().index()) + ":" + std::string(line) + "\n");
    }
  }
  void on_moved(Connection& conn) override {
    ++moves;
    conn.write(std::to_string(conn.shard().index()) + ":moved\n");
  }
  int moves = 0;
};

TEST(RuntimeTest, AConnectionMovesToAnotherShardWithItsHandlerAndPipelinedInput) {
  TestServer server(options_with_shards(2),
                    [](Connection&) { return std::make_unique<MovingEcho>(); });
  for (int round = 0; round < 8; ++round) {
    Client client = server.connect();
    const std::string greeting = client.read_line();
    ASSERT_EQ(greeting.size(), std::string("0:hello\n").size()) << greeting;
    const char home = greeting[0];
    const char other = home == '0' ? '1' : '0';
    // The lines after "move" arrive with it: they must be answered, in order, by the new shard.
    ASSERT_TRUE(client.send_all(std::string("a\nmove ") + other + "\nb\nc\n"));
    EXPECT_EQ(client.read_line(), std::string(1, home) + ":a\n");
    EXPECT_EQ(client.read_line(), std::string(1, home) + ":moving\n");
    EXPECT_EQ(client.read_line(), std::string(1, other) + ":moved\n");
    EXPECT_EQ(client.read_line(), std::string(1, other) + ":b\n");
    EXPECT_EQ(client.read_line(), std::string(1, other) + ":c\n");
    ASSERT_TRUE(client.send_all("d\n"));
    EXPECT_EQ(client.read_line(), std::string(1, other) + ":d\n");
  }
}

// Queues more output than the socket buffers take, then moves: a peer that reads nothing
// holds the move until its drain deadline, and then the connection closes on its old shard.
constexpr size_t kStalledOutput = size_t{32} << 20;

class StalledMove final : public ConnectionHandler {
 public:
  explicit StalledMove(std::atomic<int>& closes) : closes_(closes) {}
  ~StalledMove() override { ++closes_; }
  void on_open(Connection&) override {}
  size_t on_data(Connection& conn, std::string_view input) override {
    conn.write(std::string(kStalledOutput, 'o'));
    conn.move_to_shard(1 - conn.shard().index(), 200);
    return input.size();
  }
  void on_moved(Connection&) override { ADD_FAILURE() << "the stalled move went through"; }

 private:
  std::atomic<int>& closes_;
};

TEST(RuntimeTest, AMoveWhoseOutputDoesNotDrainClosesTheConnection) {
  std::atomic<int> closes{0};
  Options options = options_with_shards(2);
  options.limits.output_buffer_bytes_max = 2 * kStalledOutput;
  TestServer server(options,
                    [&closes](Connection&) { return std::make_unique<StalledMove>(closes); });
  Client client = server.connect();
  ASSERT_TRUE(client.send_all("go\n"));
  const int64_t give_up = now_ms() + 10000;
  while (closes.load() == 0 && now_ms() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(closes.load(), 1);
  bool closed = false;
  const size_t received = client.read_until_closed(10000, &closed).size();
  EXPECT_TRUE(closed);
  EXPECT_LT(received, kStalledOutput);
}

}  // namespace
}  // namespace rm
