// rm_echo_load: closed-loop load for a line-echo server (rm_echo_ringmail, rm_echo_epoll).
//
//   rm_echo_load --host 127.0.0.1 --port P --connections C --seconds S [--threads T]
//                [--size BYTES]
//
// Opens C connections spread over T threads (default 1), each with its own epoll instance
// (level-triggered, non-blocking sockets). Once every connection is up, each one sends a
// line of BYTES bytes (default 32, LF included) and sends the next only after the echo came
// back complete and byte-for-byte equal: one request in flight per connection, so C is
// the concurrency the server sees. Lines differ per connection and per request, so a reply
// delivered to the wrong connection or out of order is caught. After S seconds it prints
//   requests_per_s=R connections=C seconds=S errors=E
// where E counts connections that failed (connect error, reset, EOF, wrong bytes). Exit
// status 1 when E > 0.
// SECURITY: a test client; --host must be a numeric IPv4 address and should be loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <barrier>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/runtime/args.h"

namespace {

constexpr const char* kProgram = "rm_echo_load";
constexpr int kMaxEvents = 256;
constexpr int64_t kConnectTimeoutNs = 10'000'000'000;

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

struct Args {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint32_t connections = 1;
  uint32_t seconds = 5;
  uint32_t threads = 1;
  uint32_t size = 32;
};

struct Client {
  int fd = -1;
  uint32_t id = 0;
  uint64_t seq = 0;
  size_t sent = 0;  // bytes of `request` written
  size_t got = 0;   // bytes of `reply` read
  bool connected = false;
  bool want_out = false;  // EPOLLOUT registered (connecting, or a send was short)
  std::string request;
  std::string reply;
};

// The start and end of the measured window, written once by the barrier's completion step
// (which happens-before every thread leaves the barrier).
struct Window {
  int64_t start_ns = 0;
  int64_t end_ns = 0;
};

// One thread's share of the connections and its own epoll loop.
class LoadThread {
 public:
  LoadThread(const Args& args, const sockaddr_in& addr, uint32_t first_id, uint32_t count);
  ~LoadThread();
  void connect_all();
  void run(const Window& window);
  uint64_t completed() const { return completed_; }
  uint64_t errors() const { return errors_; }

 private:
  void set_events(Client& c, uint32_t events, int op);
  void on_connect_event(Client& c);
  void fill_request(Client& c);
  void start_request(Client& c);
  void send_rest(Client& c);
  void on_readable(Client& c, bool in_window);
  void on_event(Client& c, uint32_t events, bool in_window);
  void fail(Client& c, const char* why);

  const Args& args_;
  const sockaddr_in addr_;
  std::vector<Client> clients_;
  int epfd_ = -1;
  uint32_t pending_connects_ = 0;
  uint64_t completed_ = 0;
  uint64_t errors_ = 0;
  static constexpr uint64_t kErrorsReported = 5;  // per thread; the rest are only counted
};

LoadThread::LoadThread(const Args& args, const sockaddr_in& addr, uint32_t first_id,
                       uint32_t count)
    : args_(args), addr_(addr), clients_(count) {
  for (uint32_t i = 0; i < count; ++i) {
    clients_[i].id = first_id + i;
    clients_[i].request.resize(args.size);
    clients_[i].reply.resize(args.size);
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
}

LoadThread::~LoadThread() {
  for (Client& c : clients_) {
    if (c.fd >= 0) {
      ::close(c.fd);
    }
  }
  if (epfd_ >= 0) {
    ::close(epfd_);
  }
}

void LoadThread::set_events(Client& c, uint32_t events, int op) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = &c;
  if (epoll_ctl(epfd_, op, c.fd, &ev) != 0) {
    fail(c, std::strerror(errno));
  }
  c.want_out = (events & EPOLLOUT) != 0;
}

// Closes a broken connection for good (no reconnect: the count of live connections is part
// of what was asked for, so a failure must show in `errors`, not be papered over).
void LoadThread::fail(Client& c, const char* why) {
  if (c.fd < 0) {
    return;
  }
  if (errors_ < kErrorsReported) {
    std::fprintf(stderr, "%s: connection %u (request %llu): %s\n", kProgram, c.id,
                 static_cast<unsigned long long>(c.seq), why);
  }
  if (!c.connected) {
    --pending_connects_;
  }
  ::close(c.fd);
  c.fd = -1;
  ++errors_;
}

// Starts every connect, then waits (bounded) until each has succeeded or failed.
void LoadThread::connect_all() {
  for (Client& c : clients_) {
    c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      std::fprintf(stderr, "%s: socket: %s\n", kProgram, std::strerror(errno));
      ++errors_;
      continue;
    }
    const int one = 1;  // requests are small and must not wait for Nagle
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++pending_connects_;
    const int rc = connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
    if (rc != 0 && errno != EINPROGRESS) {
      fail(c, std::strerror(errno));
      continue;
    }
    set_events(c, EPOLLOUT, EPOLL_CTL_ADD);  // writable = the handshake finished
  }
  const int64_t deadline = now_ns() + kConnectTimeoutNs;
  epoll_event events[kMaxEvents];
  while (pending_connects_ > 0 && now_ns() < deadline) {
    const int n = epoll_wait(epfd_, events, kMaxEvents, 100);
    for (int i = 0; i < n; ++i) {
      on_connect_event(*static_cast<Client*>(events[i].data.ptr));
    }
  }
  for (Client& c : clients_) {
    if (c.fd >= 0 && !c.connected) {
      fail(c, "connect timed out");
    }
  }
}

void LoadThread::on_connect_event(Client& c) {
  if (c.fd < 0 || c.connected) {
    return;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    fail(c, err != 0 ? std::strerror(err) : "getsockopt(SO_ERROR) failed");
    return;
  }
  c.connected = true;
  --pending_connects_;
  set_events(c, EPOLLIN, EPOLL_CTL_MOD);
}

// "<id>.<seq>." then filler that changes with seq, then LF: unique per connection and
// request, so a misrouted or stale reply never compares equal.
void LoadThread::fill_request(Client& c) {
  char* const begin = c.request.data();
  char* const last = begin + c.request.size() - 1;  // the LF
  char* p = std::to_chars(begin, last, c.id).ptr;
  if (p < last) *p++ = '.';
  p = std::to_chars(p, last, c.seq).ptr;
  const char filler = static_cast<char>('a' + c.seq % 26);
  for (; p < last; ++p) {
    *p = filler;
  }
  *last = '\n';
}

void LoadThread::start_request(Client& c) {
  fill_request(c);
  c.sent = 0;
  c.got = 0;
  send_rest(c);
}

// Writes what the socket takes; waits for EPOLLOUT for the rest.
void LoadThread::send_rest(Client& c) {
  while (c.sent < c.request.size()) {
    const ssize_t n = ::send(c.fd, c.request.data() + c.sent, c.request.size() - c.sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        fail(c, std::strerror(errno));
      } else if (!c.want_out) {
        set_events(c, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
      }
      return;
    }
    c.sent += static_cast<size_t>(n);
  }
  if (c.want_out) {
    set_events(c, EPOLLIN, EPOLL_CTL_MOD);
  }
}

// One read per readiness event (level-triggered: anything left is reported again). A full,
// matching echo completes the request and starts the next.
void LoadThread::on_readable(Client& c, bool in_window) {
  const ssize_t n = ::read(c.fd, c.reply.data() + c.got, c.reply.size() - c.got);
  if (n <= 0) {
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      fail(c, n == 0 ? "the server closed the connection" : std::strerror(errno));
    }
    return;
  }
  c.got += static_cast<size_t>(n);
  if (c.got < c.reply.size()) {
    return;
  }
  if (c.sent != c.request.size() || c.reply != c.request) {
    fail(c, "the echo differs from the request");
    return;
  }
  completed_ += in_window ? 1 : 0;
  ++c.seq;
  start_request(c);
}

void LoadThread::on_event(Client& c, uint32_t events, bool in_window) {
  if (events & EPOLLERR) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    fail(c, err != 0 ? std::strerror(err) : "EPOLLERR");
    return;
  }
  if (events & EPOLLOUT) {
    send_rest(c);
  }
  if (c.fd >= 0 && (events & (EPOLLIN | EPOLLHUP))) {
    on_readable(c, in_window);
  }
}

void LoadThread::run(const Window& window) {
  for (Client& c : clients_) {
    if (c.fd >= 0) {
      start_request(c);
    }
  }
  epoll_event events[kMaxEvents];
  for (int64_t now = now_ns(); now < window.end_ns; now = now_ns()) {
    const int timeout_ms = static_cast<int>((window.end_ns - now + 999'999) / 1'000'000);
    const int n = epoll_wait(epfd_, events, kMaxEvents, timeout_ms);
    // Replies in a batch that returned after the end are not counted.
    const bool in_window = now_ns() < window.end_ns;
    for (int i = 0; i < n; ++i) {
      Client& c = *static_cast<Client*>(events[i].data.ptr);
      if (c.fd >= 0) {
        on_event(c, events[i].events, in_window);
      }
    }
  }
}

Args parse_args(int argc, char** argv) {
  Args a;
  auto number = [&](int* i, uint64_t min, uint64_t max) {
    const std::string_view flag = argv[*i];
    return static_cast<uint32_t>(
        rm::bench::parse_number(kProgram, flag, rm::bench::flag_value(kProgram, argc, argv, i), min, max));
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--host") {
      a.host = std::string(rm::bench::flag_value(kProgram, argc, argv, &i));
    } else if (arg == "--port") {
      a.port = static_cast<uint16_t>(number(&i, 1, 65535));
    } else if (arg == "--connections") {
      a.connections = number(&i, 1, 100000);
    } else if (arg == "--seconds") {
      a.seconds = number(&i, 1, 3600);
    } else if (arg == "--threads") {
      a.threads = number(&i, 1, 256);
    } else if (arg == "--size") {
      a.size = number(&i, 2, 4096);  // LineEcho's line_bytes_max
    } else {
      std::fprintf(stderr,
                   "usage: %s --host 127.0.0.1 --port P --connections C --seconds S "
                   "[--threads T] [--size BYTES]\n", kProgram);
      std::exit(2);
    }
  }
  if (a.port == 0) {
    std::fprintf(stderr, "%s: --port is required\n", kProgram);
    std::exit(2);
  }
  a.threads = std::min(a.threads, a.connections);
  return a;
}

// One descriptor per connection plus a few per thread; the default soft limit (often 1024)
// is too low for 1000 connections, so raise it (and the hard limit, when allowed).
void raise_fd_limit(uint32_t connections, uint32_t threads) {
  const rlim_t need = rlim_t{connections} + 4 * rlim_t{threads} + 32;
  rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= need) {
    return;
  }
  lim.rlim_cur = need;
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_max < need) {
    lim.rlim_max = need;  // needs CAP_SYS_RESOURCE
  }
  if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
    std::fprintf(stderr, "%s: need %llu file descriptors: setrlimit: %s\n", kProgram,
                 static_cast<unsigned long long>(need), std::strerror(errno));
    std::exit(1);
  }
}

sockaddr_in server_address(const Args& args) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(args.port);
  if (inet_pton(AF_INET, args.host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "%s: --host must be an IPv4 address, got '%s'\n", kProgram,
                 args.host.c_str());
    std::exit(2);
  }
  return addr;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  raise_fd_limit(args.connections, args.threads);
  const sockaddr_in addr = server_address(args);
  std::vector<std::unique_ptr<LoadThread>> loads;
  for (uint32_t t = 0; t < args.threads; ++t) {
    const uint32_t first = static_cast<uint32_t>(uint64_t{args.connections} * t / args.threads);
    const uint32_t end = static_cast<uint32_t>(uint64_t{args.connections} * (t + 1) / args.threads);
    loads.push_back(std::make_unique<LoadThread>(args, addr, first, end - first));
  }
  // Every thread connects first; the window opens when the last one is ready, so connection
  // set-up is never part of the measurement.
  Window window;
  std::barrier ready(static_cast<std::ptrdiff_t>(args.threads), [&]() noexcept {
    window.start_ns = now_ns();
    window.end_ns = window.start_ns + int64_t{args.seconds} * 1'000'000'000;
  });
  std::vector<std::thread> threads;
  for (auto& load : loads) {
    threads.emplace_back([&, l = load.get()] {
      l->connect_all();
      ready.arrive_and_wait();
      l->run(window);
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  uint64_t completed = 0;
  uint64_t errors = 0;
  for (const auto& load : loads) {
    completed += load->completed();
    errors += load->errors();
  }
  const double seconds = static_cast<double>(window.end_ns - window.start_ns) / 1e9;
  std::printf("requests_per_s=%.0f connections=%u seconds=%u errors=%llu\n",
              static_cast<double>(completed) / seconds, args.connections, args.seconds,
              static_cast<unsigned long long>(errors));
  return errors == 0 ? 0 : 1;
}
