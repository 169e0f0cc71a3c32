// The per-shard Resolver against a real DNS server, dnsmasq, on a free loopback port: MX
// preferences, implicit and null MX, NXDOMAIN, A + AAAA, the TTL cache, answers too big for
// UDP (DNS over TCP), and servers that are down or silent. Everything stays on 127.0.0.1.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/dns/resolver.h"
#include "core/runtime/runtime.h"
#include "tests/core/test_client.h"

extern char** environ;

namespace rm {
namespace {

using namespace std::chrono_literals;
using test::now_ms;

constexpr const char* kDnsmasq = "/usr/sbin/dnsmasq";
constexpr int kBigMxCount = 40;

std::string ip_text(const IpAddress& ip) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), text, sizeof text);
  return text;
}

std::vector<std::string> ip_texts(const std::vector<IpAddress>& ips) {
  std::vector<std::string> out;
  for (const IpAddress& ip : ips) {
    out.push_back(ip_text(ip));
  }
  return out;
}

// Sends one DNS query for "probe.test" A and waits for any answer: the server is up.
bool dns_answers(uint16_t port, int timeout_ms) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const unsigned char query[] = {0x12, 0x34, 0x01, 0x00, 0, 1,   0,   0,   0,   0, 0, 0, 5, 'p',
                                 'r',  'o',  'b',  'e',  4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
  bool answered = false;
  const int64_t deadline = now_ms() + timeout_ms;
  while (!answered && now_ms() < deadline) {
    ::sendto(fd, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    char buf[512];
    answered = test::poll_until(fd, POLLIN, now_ms() + 50) && ::recv(fd, buf, sizeof buf, 0) > 0;
  }
  ::close(fd);
  return answered;
}

// dnsmasq serving the zone "test" from its command line, on 127.0.0.1:port.
class Dnsmasq {
 public:
  Dnsmasq() : port_(test::pick_free_ports(1).at(0)) {}
  ~Dnsmasq() { stop(); }

  uint16_t port() const { return port_; }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

  bool start() {
    std::vector<std::string> args = {
        kDnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
        "--pid-file=", "--bind-interfaces", "--listen-address=127.0.0.1",
        "--port=" + std::to_string(port_), "--local=/test/", "--local-ttl=300",
        "--log-facility=/dev/null",
        // Two preferences, two hosts at the second one.
        "--mx-host=example.test,mx1.example.test,10", "--mx-host=example.test,mx2.example.test,20",
        "--mx-host=example.test,mx3.example.test,20", "--host-record=mx1.example.test,127.0.0.2",
        "--host-record=mx2.example.test,127.0.0.3", "--host-record=mx3.example.test,127.0.0.4,::1",
        "--host-record=implicit.test,127.0.0.5",  // no MX: implicit
        "--mx-host=nullmx.test,.,0",              // RFC 7505
        "--host-record=dual.test,127.0.0.6,::1", "--cname=alias.test,dual.test",
        "--host-record=short.test,127.0.0.7,1",  // TTL 1 s
        "--mx-host=noaddr.test,ghost.noaddr.test,10", "--host-record=mxhost.test,127.0.0.8",
        // For resolve(): TXT with several strings and several records, PTR.
        "--txt-record=spf.test,v=spf1 ip4:,192.0.2.5 -all", "--txt-record=spf.test,other",
        "--ptr-record=5.2.0.192.in-addr.arpa,host.spf.test"};
    for (int i = 1; i <= kBigMxCount; ++i) {
      const std::string host =
          "a-rather-long-mail-exchanger-name-" + std::to_string(i) + ".big.test";
      args.push_back("--mx-host=big.test," + host + "," + std::to_string(i));
      args.push_back("--host-record=" + host + ",127.0.1." + std::to_string(i));
    }
    if (::geteuid() == 0) {
      args.push_back("--user=root");  // else it drops to "nobody", which is fine but noisier
    }
    std::vector<char*> argv;
    for (std::string& arg : args) {
      argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, kDnsmasq, nullptr, nullptr, argv.data(), environ) != 0) {
      pid_ = -1;
      return false;
    }
    return dns_answers(port_, 5000);
  }

  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
  }

 private:
  uint16_t port_;
  pid_t pid_ = -1;
};

// A one-shard runtime with a Resolver on it, and blocking calls into it for the test.
class ResolverHarness {
 public:
  explicit ResolverHarness(const ResolverOptions& options) : rt_(shard_options()) {
    const Status started = rt_.start(RuntimeStart{.handle_signals = false});
    EXPECT_TRUE(started.ok()) << started.to_string();
    run([&](Shard& shard) {
      Result<std::unique_ptr<Resolver>> made = Resolver::create(shard, options);
      create_status_ = made.status();
      if (made.ok()) {
        resolver_ = std::move(made).value();
      }
    });
  }
  ~ResolverHarness() {
    run([&](Shard&) { resolver_.reset(); });
  }

  const Status& create_status() const { return create_status_; }
  bool ok() const { return create_status_.ok(); }

  MxAnswer mx(const std::string& domain, std::chrono::milliseconds bound = 10s) {
    std::promise<MxAnswer> answer;
    run([&](Shard&) {
      resolver_->resolve_mx(domain, [&answer](MxAnswer a) { answer.set_value(std::move(a)); });
    });
    std::future<MxAnswer> result = answer.get_future();
    EXPECT_EQ(result.wait_for(bound), std::future_status::ready) << "resolve_mx " << domain;
    return result.get();
  }

  HostAnswer host(const std::string& name) {
    std::promise<HostAnswer> answer;
    run([&](Shard&) {
      resolver_->resolve_host(name, [&answer](HostAnswer a) { answer.set_value(std::move(a)); });
    });
    std::future<HostAnswer> result = answer.get_future();
    EXPECT_EQ(result.wait_for(10s), std::future_status::ready) << "resolve_host " << name;
    return result.get();
  }

  DnsAnswer records(const std::string& name, DnsType type) {
    std::promise<DnsAnswer> answer;
    run([&](Shard&) {
      resolver_->resolve(name, type, [&answer](DnsAnswer a) { answer.set_value(std::move(a)); });
    });
    std::future<DnsAnswer> result = answer.get_future();
    EXPECT_EQ(result.wait_for(10s), std::future_status::ready) << "resolve " << name;
    return result.get();
  }

  uint64_t queries() {
    uint64_t n = 0;
    run([&](Shard&) { n = resolver_->queries_sent(); });
    return n;
  }

  template <typename F>
  void run(F fn) {
    std::promise<void> ran;
    rt_.post(0, [&] {
      fn(rt_.shard(0));
      ran.set_value();
    });
    ASSERT_EQ(ran.get_future().wait_for(10s), std::future_status::ready);
  }

  Resolver& resolver() { return *resolver_; }

 private:
  static Options shard_options() {
    Options options;
    options.runtime.shards = 1;
    return options;
  }
  Runtime rt_;
  Status create_status_;
  std::unique_ptr<Resolver> resolver_;
};

class DnsResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(kDnsmasq, X_OK) != 0) {
      GTEST_SKIP() << kDnsmasq << " is missing: apt-get install dnsmasq-base";
    }
    ASSERT_TRUE(dns_.start()) << "dnsmasq did not answer on " << dns_.server();
    ResolverOptions options;
    options.servers = dns_.server();
    options.timeout_ms = 1000;
    resolver_ = std::make_unique<ResolverHarness>(options);
    ASSERT_TRUE(resolver_->ok()) << resolver_->create_status().to_string();
  }
  void TearDown() override {
    resolver_.reset();
    dns_.stop();
  }

  Dnsmasq dns_;
  std::unique_ptr<ResolverHarness> resolver_;
};

TEST_F(DnsResolverTest, MxHostsComeSortedByPreferenceWithTheirAddresses) {
  const MxAnswer answer = resolver_->mx("Example.TEST.");
  ASSERT_TRUE(answer.status.ok()) << answer.status.to_string();
  EXPECT_FALSE(answer.implicit);
  ASSERT_EQ(answer.hosts.size(), 3u);
  EXPECT_EQ(answer.hosts[0].name, "mx1.example.test");
  EXPECT_EQ(answer.hosts[0].preference, 10);
  EXPECT_EQ(ip_texts(answer.hosts[0].addresses), std::vector<std::string>{"127.0.0.2"});
  std::set<std::string> second;
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(answer.hosts[i].preference, 20);
    second.insert(answer.hosts[i].name);
    if (answer.hosts[i].name == "mx3.example.test") {
      EXPECT_EQ(ip_texts(answer.hosts[i].addresses),
                (std::vector<std::string>{"127.0.0.4", "::1"}));
    }
  }
  EXPECT_EQ(second, (std::set<std::string>{"mx2.example.test", "mx3.example.test"}));
}

TEST_F(DnsResolverTest, EqualPreferencesAreShuffled) {
  std::set<std::string> seconds;
  for (int i = 0; i < 40 && seconds.size() < 2; ++i) {
    const MxAnswer answer = resolver_->mx("example.test");
    ASSERT_EQ(answer.hosts.size(), 3u);
    EXPECT_EQ(answer.hosts[0].name, "mx1.example.test");
    seconds.insert(answer.hosts[1].name);
  }
  EXPECT_EQ(seconds.size(), 2u) << "the two preference-20 hosts always came in one order";
}

TEST_F(DnsResolverTest, NoMxRecordsMeansTheDomainItselfAtPreferenceZero) {
  const MxAnswer answer = resolver_->mx("implicit.test");
  ASSERT_TRUE(answer.status.ok()) << answer.status.to_string();
  EXPECT_TRUE(answer.implicit);
  ASSERT_EQ(answer.hosts.size(), 1u);
  EXPECT_EQ(answer.hosts[0].name, "implicit.test");
  EXPECT_EQ(answer.hosts[0].preference, 0);
  EXPECT_EQ(ip_texts(answer.hosts[0].addresses), std::vector<std::string>{"127.0.0.5"});
}

TEST_F(DnsResolverTest, NullMxMeansTheDomainAcceptsNoMail) {
  const MxAnswer answer = resolver_->mx("nullmx.test");
  EXPECT_FALSE(answer.status.ok());
  EXPECT_EQ(answer.error, DnsError::kNullMx);
  EXPECT_TRUE(answer.hosts.empty());
}

TEST_F(DnsResolverTest, NxdomainIsAPermanentNoSuchDomain) {
  const MxAnswer mx = resolver_->mx("nosuch.test");
  EXPECT_EQ(mx.error, DnsError::kNoSuchDomain);
  EXPECT_EQ(mx.status.code(), StatusCode::kNotFound);
  const HostAnswer host = resolver_->host("nosuch.test");
  EXPECT_EQ(host.error, DnsError::kNoSuchDomain);
  EXPECT_TRUE(host.addresses.empty());
}

TEST_F(DnsResolverTest, MxHostsWithoutAddressesArePermanentNoAddress) {
  const MxAnswer answer = resolver_->mx("noaddr.test");
  EXPECT_EQ(answer.error, DnsError::kNoAddress);
  ASSERT_EQ(answer.hosts.size(), 1u);
  EXPECT_EQ(answer.hosts[0].error, DnsError::kNoSuchDomain);
}

TEST_F(DnsResolverTest, HostLookupReturnsBothAAndAaaa) {
  const HostAnswer answer = resolver_->host("dual.test");
  ASSERT_TRUE(answer.status.ok()) << answer.status.to_string();
  EXPECT_EQ(ip_texts(answer.addresses), (std::vector<std::string>{"127.0.0.6", "::1"}));
  const HostAnswer v4_only = resolver_->host("mxhost.test");
  EXPECT_EQ(ip_texts(v4_only.addresses), std::vector<std::string>{"127.0.0.8"});
}

TEST_F(DnsResolverTest, HostLookupFollowsACname) {
  const HostAnswer answer = resolver_->host("alias.test");
  ASSERT_TRUE(answer.status.ok()) << answer.status.to_string();
  EXPECT_EQ(ip_texts(answer.addresses), (std::vector<std::string>{"127.0.0.6", "::1"}));
}

TEST_F(DnsResolverTest, InvalidNamesAreRefusedWithoutAQuery) {
  for (const char* name : {"", "bad domain.test", "a..test", "-\x01.test"}) {
    EXPECT_EQ(resolver_->mx(name).error, DnsError::kInvalidName) << name;
    EXPECT_EQ(resolver_->host(name).error, DnsError::kInvalidName) << name;
  }
  EXPECT_EQ(resolver_->mx(std::string(254, 'a')).error, DnsError::kInvalidName);
  EXPECT_EQ(resolver_->queries(), 0u);
}

TEST_F(DnsResolverTest, TxtRecordsKeepTheirStringsApart) {
  DnsAnswer answer = resolver_->records("SPF.test.", DnsType::kTxt);
  ASSERT_TRUE(answer.status.ok()) << answer.status.to_string();
  ASSERT_EQ(answer.txt.size(), 2u);
  std::set<std::vector<std::string>> records(answer.txt.begin(), answer.txt.end());
  EXPECT_TRUE(records.count({"v=spf1 ip4:", "192.0.2.5 -all"}));
  EXPECT_TRUE(records.count({"other"}));
}

TEST_F(DnsResolverTest, PtrMxAAndAaaaAsTheyAre) {
  DnsAnswer ptr = resolver_->records("5.2.0.192.in-addr.arpa", DnsType::kPtr);
  ASSERT_TRUE(ptr.status.ok()) << ptr.status.to_string();
  EXPECT_EQ(ptr.names, std::vector<std::string>{"host.spf.test"});
  DnsAnswer mx = resolver_->records("example.test", DnsType::kMx);
  ASSERT_EQ(mx.mx.size(), 3u);
  EXPECT_TRUE(mx.addresses.empty());  // exchanges are not resolved
  DnsAnswer a = resolver_->records("dual.test", DnsType::kA);
  EXPECT_EQ(ip_texts(a.addresses), std::vector<std::string>{"127.0.0.6"});
  DnsAnswer aaaa = resolver_->records("dual.test", DnsType::kAaaa);
  EXPECT_EQ(ip_texts(aaaa.addresses), std::vector<std::string>{"::1"});
}

TEST_F(DnsResolverTest, ResolveTellsNxdomainNoRecordsAndBadNamesApart) {
  EXPECT_EQ(resolver_->records("nothing.test", DnsType::kTxt).error, DnsError::kNoSuchDomain);
  EXPECT_EQ(resolver_->records("dual.test", DnsType::kTxt).error, DnsError::kNoRecords);
  EXPECT_EQ(resolver_->records("a..test", DnsType::kTxt).error, DnsError::kInvalidName);
  // SPF macros make names with characters a host name cannot have: they are asked.
  EXPECT_EQ(resolver_->records("a+b=c.test", DnsType::kA).error, DnsError::kNoSuchDomain);
  const uint64_t before = resolver_->queries();
  EXPECT_EQ(resolver_->records("nothing.test", DnsType::kTxt).error, DnsError::kNoSuchDomain);
  EXPECT_EQ(resolver_->queries(), before);  // cached
}

TEST_F(DnsResolverTest, SecondLookupIsAnsweredFromTheCacheEvenWithTheServerGone) {
  const MxAnswer first = resolver_->mx("example.test");
  ASSERT_TRUE(first.status.ok());
  const uint64_t queries = resolver_->queries();
  EXPECT_EQ(queries, 7u);  // MX, then A and AAAA for each of three hosts
  dns_.stop();
  const MxAnswer again = resolver_->mx("example.test");
  ASSERT_TRUE(again.status.ok()) << again.status.to_string();
  EXPECT_EQ(again.hosts.size(), 3u);
  EXPECT_EQ(resolver_->queries(), queries);
  const HostAnswer host = resolver_->host("mx1.example.test");
  EXPECT_EQ(ip_texts(host.addresses), std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(resolver_->queries(), queries);
}

TEST_F(DnsResolverTest, NegativeAnswersAreCachedToo) {
  EXPECT_EQ(resolver_->mx("nosuch.test").error, DnsError::kNoSuchDomain);
  const uint64_t queries = resolver_->queries();
  EXPECT_EQ(resolver_->mx("nosuch.test").error, DnsError::kNoSuchDomain);
  EXPECT_EQ(resolver_->queries(), queries);
}

TEST_F(DnsResolverTest, AnswersExpireWithTheirTtl) {
  EXPECT_TRUE(resolver_->host("short.test").status.ok());
  const uint64_t queries = resolver_->queries();
  EXPECT_TRUE(resolver_->host("short.test").status.ok());
  std::this_thread::sleep_for(1100ms);
  EXPECT_TRUE(resolver_->host("short.test").status.ok());
  // The A record (TTL 1) is asked again; the AAAA NODATA is still cached (60 s).
  EXPECT_EQ(resolver_->queries(), queries + 1);
}

TEST_F(DnsResolverTest, ConcurrentLookupsOfOneNameShareOneQuery) {
  constexpr int kLookups = 20;
  std::vector<std::promise<HostAnswer>> answers(kLookups);
  resolver_->run([&](Shard&) {
    for (auto& answer : answers) {
      resolver_->resolver().resolve_host(
          "dual.test", [&answer](HostAnswer a) { answer.set_value(std::move(a)); });
    }
  });
  for (auto& answer : answers) {
    std::future<HostAnswer> result = answer.get_future();
    ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(result.get().addresses.size(), 2u);
  }
  EXPECT_EQ(resolver_->queries(), 2u);  // one A, one AAAA
}

TEST_F(DnsResolverTest, AnswerTooBigForUdpComesOverTcpAndIsCapped) {
  const MxAnswer answer = resolver_->mx("big.test");
  ASSERT_TRUE(answer.status.ok()) << answer.status.to_string();
  ASSERT_EQ(answer.hosts.size(), ResolverOptions{}.mx_hosts_max);
  for (size_t i = 0; i < answer.hosts.size(); ++i) {
    EXPECT_EQ(answer.hosts[i].preference, i + 1);
    EXPECT_EQ(ip_texts(answer.hosts[i].addresses),
              std::vector<std::string>{"127.0.1." + std::to_string(i + 1)});
  }
}

// ---- the pieces under the resolver ----

std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// dnsmasq's answer to "example.test MX": two MX records, two A records in the additional
// section, TTL 300.
constexpr std::string_view kMxResponse =
    "123485800001000200000002076578616d706c65047465737400000f0001c00c000f00010000012c0014001403"
    "6d7832076578616d706c65047465737400c00c000f00010000012c0014000a036d7831076578616d706c650474"
    "65737400c02c000100010000012c00047f000003c04c000100010000012c00047f000002";

TEST(DnsMessageTest, ReadsMxRecordsAndTheirTtl) {
  const std::vector<uint8_t> message = from_hex(kMxResponse);
  Result<DnsRecords> records =
      parse_dns_response(message.data(), message.size(), "EXAMPLE.test.", DnsType::kMx);
  ASSERT_TRUE(records.ok()) << records.status().to_string();
  EXPECT_EQ(records->rcode, kRcodeNoError);
  ASSERT_EQ(records->mx.size(), 2u);
  EXPECT_EQ(records->mx[0].preference, 20);
  EXPECT_EQ(records->mx[0].exchange, "mx2.example.test");
  EXPECT_EQ(records->mx[1].exchange, "mx1.example.test");
  EXPECT_EQ(records->ttl_s, 300u);
  // Records for another name or type are not this answer.
  Result<DnsRecords> other =
      parse_dns_response(message.data(), message.size(), "example.test", DnsType::kA);
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->empty());
}

// A response to "x.test TXT" holding `rdata` as its one answer's data.
std::vector<uint8_t> txt_response(const std::vector<uint8_t>& rdata) {
  std::vector<uint8_t> m = {0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                            1, 'x', 4, 't', 'e', 's', 't', 0, 0, 16, 0, 1,
                            0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60,
                            static_cast<uint8_t>(rdata.size() >> 8),
                            static_cast<uint8_t>(rdata.size())};
  for (uint8_t byte : rdata) {  // (insert() trips g++ 12's -Warray-bounds on an empty rdata)
    m.push_back(byte);
  }
  return m;
}

TEST(DnsMessageTest, ReadsTxtStringsAndRefusesBadOnes) {
  const std::vector<uint8_t> good = txt_response({2, 'a', 'b', 0, 1, 'c'});
  Result<DnsRecords> r = parse_dns_response(good.data(), good.size(), "x.test", DnsType::kTxt);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->txt.size(), 1u);
  EXPECT_EQ(r->txt[0], (std::vector<std::string>{"ab", "", "c"}));
  for (const std::vector<uint8_t>& bad :
       {txt_response({3, 'a', 'b'}), txt_response({1, 'a', 5})}) {
    EXPECT_FALSE(parse_dns_response(bad.data(), bad.size(), "x.test", DnsType::kTxt).ok());
  }
  const std::vector<uint8_t> empty = txt_response({});
  r = parse_dns_response(empty.data(), empty.size(), "x.test", DnsType::kTxt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->txt, std::vector<std::vector<std::string>>{{}});
  std::vector<uint8_t> many(kTxtStringsMax + 1, 0);
  const std::vector<uint8_t> too_many = txt_response(many);
  EXPECT_FALSE(
      parse_dns_response(too_many.data(), too_many.size(), "x.test", DnsType::kTxt).ok());
}

TEST(DnsMessageTest, TruncatedAndLoopingResponsesAreRefused) {
  const std::vector<uint8_t> message = from_hex(kMxResponse);
  for (size_t length = 0; length < 80; ++length) {  // cut inside the answer section
    Result<DnsRecords> records =
        parse_dns_response(message.data(), length, "example.test", DnsType::kMx);
    EXPECT_FALSE(records.ok()) << "length " << length;
  }
  // The question name points at itself.
  std::vector<uint8_t> loop = from_hex("1234858000010000000000000c00c00c000f0001");
  loop[12] = 0xc0;
  loop[13] = 0x0c;
  EXPECT_FALSE(parse_dns_response(loop.data(), loop.size(), "x.test", DnsType::kMx).ok());
}

TEST(DnsCacheTest, EvictsTheOldestAtItsCapAndDropsExpiredEntries) {
  DnsCache cache(3);
  auto value = std::make_shared<CachedLookup>();
  cache.put("a", value, 1000);
  cache.put("b", value, 1000);
  cache.put("c", value, 50);
  cache.put("d", value, 1000);  // evicts "a"
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.find("a", 10), nullptr);
  EXPECT_NE(cache.find("b", 10), nullptr);
  EXPECT_NE(cache.find("c", 10), nullptr);
  EXPECT_EQ(cache.find("c", 50), nullptr);  // expired
  EXPECT_EQ(cache.size(), 2u);
  cache.put("b", value, 2000);  // replacing makes it the newest
  cache.put("e", value, 1000);
  cache.put("f", value, 1000);  // evicts "d"
  EXPECT_EQ(cache.find("d", 10), nullptr);
  EXPECT_NE(cache.find("b", 10), nullptr);
}

TEST(DnsResolverFailureTest, ServerDownIsATemporaryFailureWithinTheTimeout) {
  ResolverOptions options;
  options.servers = "127.0.0.1:" + std::to_string(test::pick_free_ports(1).at(0));
  options.timeout_ms = 200;
  options.tries = 2;
  ResolverHarness resolver(options);
  ASSERT_TRUE(resolver.ok()) << resolver.create_status().to_string();
  const int64_t start = now_ms();
  const MxAnswer answer = resolver.mx("example.test");
  EXPECT_LE(now_ms() - start, 2000);
  EXPECT_EQ(answer.error, DnsError::kTemporary);
  EXPECT_EQ(answer.status.code(), StatusCode::kUnavailable) << answer.status.to_string();
  // Temporary failures are not cached: the next lookup asks again.
  const uint64_t queries = resolver.queries();
  EXPECT_EQ(resolver.mx("example.test").error, DnsError::kTemporary);
  EXPECT_GT(resolver.queries(), queries);
}

TEST(DnsResolverFailureTest, SilentServerTimesOutAsATemporaryFailure) {
  // A bound UDP socket that never answers.
  const int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ResolverOptions options;
  options.servers = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  options.timeout_ms = 100;
  options.tries = 2;  // 100 ms, then 200 ms
  ResolverHarness resolver(options);
  ASSERT_TRUE(resolver.ok());
  const int64_t start = now_ms();
  const HostAnswer answer = resolver.host("example.test");
  const int64_t elapsed = now_ms() - start;
  EXPECT_EQ(answer.error, DnsError::kTemporary);
  EXPECT_NE(answer.status.message().find("Timeout"), std::string_view::npos)
      << answer.status.to_string();
  EXPECT_GE(elapsed, 250);
  EXPECT_LE(elapsed, 2000);
  ::close(silent);
}

TEST(DnsResolverFailureTest, BadServerStringIsRefusedAtCreate) {
  ResolverOptions options;
  options.servers = "not an address";
  ResolverHarness resolver(options);
  EXPECT_FALSE(resolver.ok());
  EXPECT_EQ(resolver.create_status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rm
