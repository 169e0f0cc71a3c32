// check_spf() on a real shard: the time limit turns a DNS server that never answers into
// temperror, and a check that needs no DNS still answers later than the call.
#include "tools/ringmaild/mail_auth/spf_check.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "core/runtime/runtime.h"

namespace rm {
namespace {

using namespace std::chrono_literals;

// A UDP socket on 127.0.0.1 that reads nothing: queries sent to it go unanswered.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

class SpfCheckTest : public ::testing::Test {
 protected:
  SpfCheckTest() : rt_(one_shard()) {}
  void SetUp() override {
    const Status started = rt_.start(RuntimeStart{.handle_signals = false});
    ASSERT_TRUE(started.ok()) << started.to_string();
  }
  void TearDown() override {
    run([this] { resolver_.reset(); });  // on its shard; ~Runtime stops the shard
  }

  // Runs check_spf on the shard and waits for its answer; `inside` says whether the
  // callback ran inside the call.
  SpfCheck check(const std::string& mail_from, uint32_t time_limit_ms, bool& inside) {
    std::promise<SpfCheck> done;
    run([&] {
      ResolverOptions dns;
      dns.servers = silent_.server();
      dns.timeout_ms = 5000;
      resolver_ = std::move(Resolver::create(rt_.shard(0), dns)).value();
      SpfCheckOptions options;
      options.receiver = "rx.example.net";
      options.time_limit_ms = time_limit_ms;
      auto returned_flag = std::make_shared<bool>(false);
      check_spf(rt_.shard(0), *resolver_, *parse_ip("192.0.2.1"), mail_from, "helo.example.org",
                options, [&done, &inside, returned_flag](SpfCheck c) {
                  inside = !*returned_flag;
                  done.set_value(std::move(c));
                });
      *returned_flag = true;
    });
    std::future<SpfCheck> result = done.get_future();
    EXPECT_EQ(result.wait_for(10s), std::future_status::ready);
    return result.get();
  }

  template <typename F>
  void run(F fn) {
    std::promise<void> ran;
    rt_.post(0, [&] {
      fn();
      ran.set_value();
    });
    ASSERT_EQ(ran.get_future().wait_for(10s), std::future_status::ready);
  }

  static Options one_shard() {
    Options options;
    options.runtime.shards = 1;
    return options;
  }

  SilentServer silent_;
  Runtime rt_;
  std::unique_ptr<Resolver> resolver_;
};

TEST_F(SpfCheckTest, UnansweredDnsEndsAsTempErrorAtTheTimeLimit) {
  bool inside = true;
  const auto start = std::chrono::steady_clock::now();
  SpfCheck c = check("user@example.org", 300, inside);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(inside);
  EXPECT_EQ(c.outcome.result, spf::ResultCode::kTempError);
  EXPECT_NE(c.outcome.problem.find("time limit"), std::string::npos);
  EXPECT_EQ(c.received_spf.substr(0, 10), "temperror ");
  EXPECT_EQ(c.queries, 1u);
}

TEST_F(SpfCheckTest, ACheckWithoutDnsAnswersAfterTheCall) {
  bool inside = true;
  SpfCheck c = check("user@[192.0.2.1]", 20000, inside);
  EXPECT_FALSE(inside);
  EXPECT_EQ(c.outcome.result, spf::ResultCode::kNone);
  EXPECT_EQ(c.queries, 0u);
}

}  // namespace
}  // namespace rm
