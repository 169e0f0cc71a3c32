// Outbound connections, descriptor watches and shard timers, against real sockets on
// 127.0.0.1: line exchanges with a plain peer and with a ringmail listener, refused and
// timed-out connects, cancellation and shutdown during a connect, many connects at once,
// the inbound limit, readiness of pipes and eventfds.
#include "core/reactor/outbound.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/eventfd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/runtime/runtime.h"
#include "core/services/line_echo.h"
#include "tests/core/test_client.h"

namespace rm {
namespace {

using namespace std::chrono_literals;
using test::Client;
using test::now_ms;

Options options_with_shards(uint32_t shards) {
  Options options;
  options.runtime.shards = shards;
  return options;
}

// A started Runtime; with a LineEcho listener "echo" on 127.0.0.1:0 when asked.
class TestRuntime {
 public:
  explicit TestRuntime(const Options& options, bool echo_listener = false) : rt_(options) {
    if (echo_listener) {
      rt_.add_listener(ListenerSpec{"echo", "127.0.0.1", 0, "", LineEcho::factory({}), ""});
    }
    const Status status = rt_.start(RuntimeStart{.handle_signals = false});
    EXPECT_TRUE(status.ok()) << status.to_string();
  }
  Runtime& rt() { return rt_; }
  uint16_t echo_port() const { return rt_.bound_port("echo"); }

  // Runs `fn` on shard `index` and waits for it.
  template <typename F>
  void run_on(int index, F fn) {
    std::promise<void> ran;
    rt_.post(index, [&] {
      fn(rt_.shard(index));
      ran.set_value();
    });
    ASSERT_EQ(ran.get_future().wait_for(5s), std::future_status::ready);
  }

 private:
  Runtime rt_;
};

// What one outbound session saw, written on the shard and read by the test.
struct Outcome {
  std::mutex mu;
  std::string received;
  bool connected = false;
  bool failed = false;
  Status status;
  bool on_shard_thread = true;
  std::promise<void> finished;  // closed after connecting, or failed
  std::atomic<bool> finished_set{false};

  void finish() {
    if (!finished_set.exchange(true)) {
      finished.set_value();
    }
  }
};

// Sends its lines one at a time, each after the answer to the previous one, then closes.
class ScriptedClient final : public ConnectionHandler {
 public:
  ScriptedClient(std::shared_ptr<Outcome> outcome, std::vector<std::string> lines)
      : outcome_(std::move(outcome)), lines_(std::move(lines)) {}

  void on_open(Connection& conn) override {
    {
      std::lock_guard<std::mutex> lock(outcome_->mu);
      outcome_->connected = true;
    }
    send_next(conn);
  }
  size_t on_data(Connection& conn, std::string_view input) override {
    size_t used = 0;
    for (size_t eol; (eol = input.find('\n', used)) != std::string_view::npos; used = eol + 1) {
      {
        std::lock_guard<std::mutex> lock(outcome_->mu);
        outcome_->received.append(input.substr(used, eol + 1 - used));
      }
      send_next(conn);
    }
    return used;
  }
  void on_close(Connection& /*conn*/) override { outcome_->finish(); }

 private:
  void send_next(Connection& conn) {
    if (next_ < lines_.size()) {
      conn.write(lines_[next_++]);
    } else {
      conn.close_after_flush();
    }
  }
  std::shared_ptr<Outcome> outcome_;
  std::vector<std::string> lines_;
  size_t next_ = 0;
};

// Starts a connect from `shard` whose session plays `lines`; fills `outcome`.
uint64_t start_scripted(Shard& shard, const ConnectSpec& spec, std::shared_ptr<Outcome> outcome,
                        std::vector<std::string> lines) {
  return shard.connect(
      spec,
      [outcome, lines](Connection&) { return std::make_unique<ScriptedClient>(outcome, lines); },
      [outcome, &shard](const Status& status) {
        {
          std::lock_guard<std::mutex> lock(outcome->mu);
          outcome->failed = true;
          outcome->status = status;
          outcome->on_shard_thread = Shard::current() == &shard;
        }
        outcome->finish();
      });
}

ConnectSpec loopback_spec(uint16_t port, uint32_t timeout_ms = 5000) {
  ConnectSpec spec;
  spec.destination = SocketAddress::parse("127.0.0.1", port).value();
  spec.timeout_ms = timeout_ms;
  return spec;
}

// A plain listening socket on 127.0.0.1 that the test drives by hand.
class PlainListener {
 public:
  explicit PlainListener(int backlog) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, backlog), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~PlainListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

  Client accept(int timeout_ms = 5000) {
    if (!test::poll_until(fd_, POLLIN, now_ms() + timeout_ms)) {
      return Client();
    }
    return Client(::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  }

  // Fills the accept queue (nobody accepts) until a new connect no longer completes.
  // Returns false when the kernel keeps completing them: a hanging connect cannot be made.
  bool fill_backlog() {
    for (int i = 0; i < 16; ++i) {
      Client probe(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port_);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      const int rc = ::connect(probe.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      const bool pending =
          rc != 0 && errno == EINPROGRESS && !test::poll_until(probe.fd(), POLLOUT, now_ms() + 300);
      fillers_.push_back(std::move(probe));
      if (pending) {
        return true;
      }
    }
    return false;
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<Client> fillers_;
};

uint16_t closed_port() {
  return test::pick_free_ports(1).at(0);
}

bool wait_finished(Outcome& outcome, std::chrono::milliseconds bound = 5s) {
  return outcome.finished.get_future().wait_for(bound) == std::future_status::ready;
}

TEST(OutboundTest, ConnectsToAPlainPeerAndExchangesLinesBothWays) {
  TestRuntime runtime(options_with_shards(1));
  PlainListener peer(16);
  auto outcome = std::make_shared<Outcome>();
  runtime.run_on(0, [&](Shard& shard) {
    start_scripted(shard, loopback_spec(peer.port()), outcome, {"HELLO one\n", "LINE two\n"});
  });
  Client server_side = peer.accept();
  ASSERT_TRUE(server_side.ok());
  EXPECT_EQ(server_side.read_line(), "HELLO one\n");
  ASSERT_TRUE(server_side.send_all("250 first\n"));
  EXPECT_EQ(server_side.read_line(), "LINE two\n");
  ASSERT_TRUE(server_side.send_all("250 second\n"));
  EXPECT_TRUE(server_side.closed_without_data());
  ASSERT_TRUE(wait_finished(*outcome));
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_TRUE(outcome->connected);
  EXPECT_FALSE(outcome->failed);
  EXPECT_EQ(outcome->received, "250 first\n250 second\n");
  EXPECT_EQ(runtime.rt().shard(0).counters().outbound_connected.load(), 1u);
}

TEST(OutboundTest, ConnectsOverIpv6Loopback) {
  const int listener = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (listener >= 0) {
      ::close(listener);
    }
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ASSERT_EQ(::listen(listener, 16), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  TestRuntime runtime(options_with_shards(1));
  ConnectSpec spec;
  spec.destination = SocketAddress::parse("::1", ntohs(addr.sin6_port)).value();
  EXPECT_EQ(spec.destination.to_string(), "[::1]:" + std::to_string(ntohs(addr.sin6_port)));
  auto outcome = std::make_shared<Outcome>();
  runtime.run_on(0, [&](Shard& shard) { start_scripted(shard, spec, outcome, {"over v6\n"}); });
  ASSERT_TRUE(test::poll_until(listener, POLLIN, now_ms() + 5000));
  Client server_side(::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  EXPECT_EQ(server_side.read_line(), "over v6\n");
  ASSERT_TRUE(server_side.send_all("ok\n"));
  ASSERT_TRUE(wait_finished(*outcome));
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_EQ(outcome->received, "ok\n");
  ::close(listener);
}

TEST(OutboundTest, ConnectsFromAConfiguredSourceAddress) {
  TestRuntime runtime(options_with_shards(1));
  PlainListener peer(16);
  ConnectSpec spec = loopback_spec(peer.port());
  spec.source = SocketAddress::parse("127.0.0.2", 0).value();
  auto outcome = std::make_shared<Outcome>();
  runtime.run_on(0, [&](Shard& shard) { start_scripted(shard, spec, outcome, {"from\n"}); });
  Client server_side = peer.accept();
  ASSERT_TRUE(server_side.ok());
  sockaddr_in from{};
  socklen_t len = sizeof from;
  ASSERT_EQ(::getpeername(server_side.fd(), reinterpret_cast<sockaddr*>(&from), &len), 0);
  EXPECT_EQ(ntohl(from.sin_addr.s_addr), 0x7f000002u);
  EXPECT_EQ(server_side.read_line(), "from\n");
}

TEST(OutboundTest, ConnectsToARingmailListenerAndGetsItsLinesEchoed) {
  TestRuntime server(options_with_shards(1), /*echo_listener=*/true);
  TestRuntime client(options_with_shards(1));
  auto outcome = std::make_shared<Outcome>();
  client.run_on(0, [&](Shard& shard) {
    start_scripted(shard, loopback_spec(server.echo_port()), outcome, {"a\n", "bb\n", "ccc\n"});
  });
  ASSERT_TRUE(wait_finished(*outcome));
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_EQ(outcome->received, "a\nbb\nccc\n");
}

TEST(OutboundTest, ConnectToAClosedPortFailsWithConnectionRefused) {
  TestRuntime runtime(options_with_shards(1));
  auto outcome = std::make_shared<Outcome>();
  runtime.run_on(0, [&](Shard& shard) {
    start_scripted(shard, loopback_spec(closed_port()), outcome, {"never\n"});
  });
  ASSERT_TRUE(wait_finished(*outcome));
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_TRUE(outcome->failed);
  EXPECT_FALSE(outcome->connected);
  EXPECT_TRUE(outcome->on_shard_thread);
  EXPECT_EQ(outcome->status.code(), StatusCode::kIoError);
  EXPECT_NE(outcome->status.message().find(std::strerror(ECONNREFUSED)), std::string_view::npos)
      << outcome->status.to_string();
  EXPECT_EQ(runtime.rt().shard(0).counters().outbound_failed.load(), 1u);
}

TEST(OutboundTest, ConnectFailuresBeforeTheKernelStillArriveThroughTheCallback) {
  TestRuntime runtime(options_with_shards(1));
  PlainListener peer(16);
  ConnectSpec spec = loopback_spec(peer.port());
  spec.source = SocketAddress::parse("::1", 0).value();  // another family than the destination
  auto outcome = std::make_shared<Outcome>();
  bool returned_before_callback = false;
  runtime.run_on(0, [&](Shard& shard) {
    start_scripted(shard, spec, outcome, {"never\n"});
    returned_before_callback = !outcome->finished_set.load();
  });
  ASSERT_TRUE(wait_finished(*outcome));
  EXPECT_TRUE(returned_before_callback);
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_TRUE(outcome->failed);
  EXPECT_EQ(outcome->status.code(), StatusCode::kInvalidArgument);
}

TEST(OutboundTest, ConnectToAFullBacklogTimesOut) {
  PlainListener peer(0);
  if (!peer.fill_backlog()) {
    GTEST_SKIP() << "the kernel completes every connect to a full backlog: no hanging connect";
  }
  TestRuntime runtime(options_with_shards(1));
  auto outcome = std::make_shared<Outcome>();
  const int64_t start = now_ms();
  runtime.run_on(0, [&](Shard& shard) {
    start_scripted(shard, loopback_spec(peer.port(), 200), outcome, {"never\n"});
  });
  ASSERT_TRUE(wait_finished(*outcome));
  const int64_t elapsed = now_ms() - start;
  EXPECT_GE(elapsed, 150);
  EXPECT_LE(elapsed, 2000);
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_TRUE(outcome->failed);
  EXPECT_NE(outcome->status.message().find(std::strerror(ETIMEDOUT)), std::string_view::npos)
      << outcome->status.to_string();
}

TEST(OutboundTest, CancelDuringAHangingConnectRunsNoCallback) {
  PlainListener peer(0);
  if (!peer.fill_backlog()) {
    GTEST_SKIP() << "the kernel completes every connect to a full backlog: no hanging connect";
  }
  TestRuntime runtime(options_with_shards(1));
  auto outcome = std::make_shared<Outcome>();
  std::promise<bool> cancelled;
  runtime.run_on(0, [&](Shard& shard) {
    const uint64_t id = start_scripted(shard, loopback_spec(peer.port(), 10000), outcome, {"x\n"});
    shard.start_timer(now_ms() + 100,
                      [&shard, &cancelled, id] { cancelled.set_value(shard.cancel_connect(id)); });
  });
  std::future<bool> result = cancelled.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(result.get());
  size_t pending = 1;
  for (int i = 0; i < 100 && pending != 0; ++i) {
    std::this_thread::sleep_for(10ms);
    runtime.run_on(0, [&](Shard& shard) { pending = shard.pending_connects(); });
  }
  EXPECT_EQ(pending, 0u);
  EXPECT_FALSE(outcome->finished_set.load());
}

TEST(OutboundTest, CancelRightAfterConnectRunsNoCallbackAndClosesTheSocket) {
  TestRuntime runtime(options_with_shards(1));
  PlainListener peer(16);
  auto outcome = std::make_shared<Outcome>();
  bool cancelled = false;
  runtime.run_on(0, [&](Shard& shard) {
    const uint64_t id = start_scripted(shard, loopback_spec(peer.port()), outcome, {"x\n"});
    cancelled = shard.cancel_connect(id);
  });
  EXPECT_TRUE(cancelled);
  // The kernel may have finished the handshake before the cancel reached it; then the
  // socket is closed without a word.
  Client server_side = peer.accept(500);
  if (server_side.ok()) {
    EXPECT_TRUE(server_side.closed_without_data());
  }
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(outcome->finished_set.load());
  size_t pending = 1;
  runtime.run_on(0, [&](Shard& shard) { pending = shard.pending_connects(); });
  EXPECT_EQ(pending, 0u);
}

TEST(OutboundTest, ShutdownDuringAConnectReportsUnavailableAndDoesNotWaitForIt) {
  PlainListener peer(0);
  if (!peer.fill_backlog()) {
    GTEST_SKIP() << "the kernel completes every connect to a full backlog: no hanging connect";
  }
  auto runtime = std::make_unique<TestRuntime>(options_with_shards(1));
  auto outcome = std::make_shared<Outcome>();
  runtime->run_on(0, [&](Shard& shard) {
    start_scripted(shard, loopback_spec(peer.port(), 30000), outcome, {"x\n"});
  });
  const int64_t start = now_ms();
  runtime->rt().request_shutdown();
  ASSERT_TRUE(wait_finished(*outcome));
  runtime.reset();  // joins the shards
  EXPECT_LE(now_ms() - start, 3000);
  std::lock_guard<std::mutex> lock(outcome->mu);
  EXPECT_TRUE(outcome->failed);
  EXPECT_EQ(outcome->status.code(), StatusCode::kUnavailable) << outcome->status.to_string();
}

TEST(OutboundTest, ManyConcurrentConnectsFromEveryShardEachGetTheirOwnLines) {
  test::ensure_fd_limit(4096);
  TestRuntime server(options_with_shards(2), /*echo_listener=*/true);
  TestRuntime client(options_with_shards(2));
  constexpr int kPerShard = 250;
  constexpr int kLines = 10;
  std::vector<std::shared_ptr<Outcome>> outcomes;
  std::vector<std::string> expected;
  for (int i = 0; i < 2 * kPerShard; ++i) {
    outcomes.push_back(std::make_shared<Outcome>());
    expected.emplace_back();
  }
  for (int s = 0; s < 2; ++s) {
    client.run_on(s, [&](Shard& shard) {
      for (int c = s * kPerShard; c < (s + 1) * kPerShard; ++c) {
        std::vector<std::string> lines;
        for (int l = 0; l < kLines; ++l) {
          lines.push_back("conn " + std::to_string(c) + " line " + std::to_string(l) + "\n");
          expected[static_cast<size_t>(c)] += lines.back();
        }
        start_scripted(shard, loopback_spec(server.echo_port()), outcomes[static_cast<size_t>(c)],
                       std::move(lines));
      }
    });
  }
  for (size_t c = 0; c < outcomes.size(); ++c) {
    ASSERT_TRUE(wait_finished(*outcomes[c], 15s)) << "connection " << c;
    std::lock_guard<std::mutex> lock(outcomes[c]->mu);
    ASSERT_FALSE(outcomes[c]->failed) << outcomes[c]->status.to_string();
    ASSERT_EQ(outcomes[c]->received, expected[c]) << "connection " << c;
  }
  uint64_t connected = 0;
  for (int s = 0; s < 2; ++s) {
    connected += client.rt().shard(s).counters().outbound_connected.load();
  }
  EXPECT_EQ(connected, uint64_t{2 * kPerShard});
}

// Keeps the connection open (answers nothing) until the test lets it go.
class Idle final : public ConnectionHandler {
 public:
  explicit Idle(std::shared_ptr<std::atomic<int>> open) : open_(std::move(open)) {}
  void on_open(Connection& /*conn*/) override { ++*open_; }
  size_t on_data(Connection& /*conn*/, std::string_view input) override { return input.size(); }
  void on_close(Connection& /*conn*/) override { --*open_; }

 private:
  std::shared_ptr<std::atomic<int>> open_;
};

TEST(OutboundTest, OutboundConnectionsDoNotCountTowardTheInboundLimit) {
  TestRuntime server(options_with_shards(1), /*echo_listener=*/true);
  Options options = options_with_shards(1);
  options.limits.connections_max = 1;
  TestRuntime limited(options, /*echo_listener=*/true);
  auto open = std::make_shared<std::atomic<int>>(0);
  constexpr int kOutbound = 20;
  limited.run_on(0, [&](Shard& shard) {
    for (int i = 0; i < kOutbound; ++i) {
      shard.connect(
          loopback_spec(server.echo_port()),
          [open](Connection&) { return std::make_unique<Idle>(open); },
          [](const Status& status) { ADD_FAILURE() << status.to_string(); });
    }
  });
  const int64_t deadline = now_ms() + 5000;
  while (open->load() < kOutbound && now_ms() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_EQ(open->load(), kOutbound);
  Client inbound = Client::tcp(limited.echo_port());
  ASSERT_TRUE(inbound.send_all("still room\n"));
  EXPECT_EQ(inbound.read_line(), "still room\n");
  EXPECT_EQ(limited.rt().shard(0).counters().refused_overload.load(), 0u);
}

// ---- descriptor watches and timers ----

TEST(OutboundTest, LevelWatchOnAPipeReportsUntilDrainedAndNothingAfterUnwatch) {
  TestRuntime runtime(options_with_shards(1));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  std::mutex mu;
  std::string got;
  std::atomic<int> calls{0};
  uint64_t id = 0;
  runtime.run_on(0, [&](Shard& shard) {
    id = shard.watch_fd(fds[0], POLLIN, [&, fd = fds[0]](uint32_t revents) {
      ++calls;
      char c;
      // One byte per call: the watch must report again while bytes are left.
      if ((revents & POLLIN) && ::read(fd, &c, 1) == 1) {
        std::lock_guard<std::mutex> lock(mu);
        got.push_back(c);
      }
    });
  });
  ASSERT_EQ(::write(fds[1], "abc", 3), 3);
  const int64_t deadline = now_ms() + 5000;
  while (now_ms() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (got.size() == 3) {
        break;
      }
    }
    std::this_thread::sleep_for(2ms);
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(got, "abc");
  }
  size_t watches = 0;
  runtime.run_on(0, [&](Shard& shard) {
    shard.unwatch_fd(id);
    watches = shard.fd_watches();
  });
  EXPECT_EQ(watches, 0u);
  const int before = calls.load();
  ASSERT_EQ(::write(fds[1], "d", 1), 1);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(calls.load(), before);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(OutboundTest, EdgeWatchOnAnEventfdReportsEachWakeUp) {
  TestRuntime runtime(options_with_shards(1));
  const int efd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(efd, 0);
  std::atomic<uint64_t> total{0};
  uint64_t id = 0;
  runtime.run_on(0, [&](Shard& shard) {
    id = shard.watch_fd(
        efd, POLLIN,
        [&](uint32_t revents) {
          uint64_t value = 0;
          if ((revents & POLLIN) && ::read(efd, &value, sizeof value) == sizeof value) {
            total += value;
          }
        },
        WatchMode::kEdge);
  });
  for (uint64_t i = 1; i <= 5; ++i) {
    ASSERT_EQ(::write(efd, &i, sizeof i), static_cast<ssize_t>(sizeof i));
    const int64_t deadline = now_ms() + 5000;
    const uint64_t want = i * (i + 1) / 2;
    while (total.load() < want && now_ms() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(total.load(), want);
  }
  runtime.run_on(0, [&](Shard& shard) { shard.unwatch_fd(id); });
  ::close(efd);
}

TEST(OutboundTest, WatchForWritingAndUnwatchFromItsOwnCallback) {
  TestRuntime runtime(options_with_shards(1));
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  std::promise<uint32_t> reported;
  std::atomic<int> calls{0};
  runtime.run_on(0, [&](Shard& shard) {
    auto id = std::make_shared<uint64_t>(0);
    *id = shard.watch_fd(fds[1], POLLOUT, [&, id, shard_ptr = &shard](uint32_t revents) {
      if (calls++ == 0) {
        shard_ptr->unwatch_fd(*id);
        reported.set_value(revents);
      }
    });
  });
  std::future<uint32_t> result = reported.get_future();
  ASSERT_EQ(result.wait_for(5s), std::future_status::ready);
  EXPECT_TRUE(result.get() & POLLOUT);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(calls.load(), 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(OutboundTest, TimersRunOnceOnTheShardAndCancelledOnesNever) {
  TestRuntime runtime(options_with_shards(1));
  std::promise<int64_t> fired;
  std::atomic<int> cancelled_ran{0};
  bool cancel_ok = false;
  bool second_cancel = true;
  const int64_t start = now_ms();
  runtime.run_on(0, [&](Shard& shard) {
    const uint64_t doomed = shard.start_timer(now_ms() + 50, [&] { ++cancelled_ran; });
    shard.start_timer(now_ms() + 100, [&] { fired.set_value(now_ms()); });
    cancel_ok = shard.cancel_timer(doomed);
    second_cancel = shard.cancel_timer(doomed);
  });
  std::future<int64_t> when = fired.get_future();
  ASSERT_EQ(when.wait_for(5s), std::future_status::ready);
  EXPECT_GE(when.get() - start, 100);
  EXPECT_TRUE(cancel_ok);
  EXPECT_FALSE(second_cancel);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(cancelled_ran.load(), 0);
}

}  // namespace
}  // namespace rm
