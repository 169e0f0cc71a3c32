// rm_echo_epoll: the baseline for the runtime benchmark. The LineEcho protocol (every
// LF-terminated line sent back, in order) on a plain, carefully written epoll loop.
//
//   rm_echo_epoll PORT [--shards N]
//
// N threads (default: one per CPU we may run on), each pinned to its CPU like a ringmail
// shard, each with its own SO_REUSEPORT listener on 127.0.0.1:PORT and its own epoll
// instance, so the kernel spreads connections exactly as it does for ringmail. Sockets are
// non-blocking and edge-triggered for read and write (registered once: no epoll_ctl per
// request). A read lands in a per-thread buffer; the complete lines in it go straight back
// with one send() and only a partial line is copied into the connection. Output that does
// not fit the socket is kept and sent on EPOLLOUT. Prints "listening port=P" when ready;
// SIGTERM/SIGINT stop it.
// SECURITY: loopback only; the address is not configurable on purpose.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/runtime/args.h"
#include "core/runtime/runtime.h"

namespace {

constexpr const char* kProgram = "rm_echo_epoll";
// The same limits LineEcho and the runtime apply (line_bytes_max, output_buffer_bytes_max),
// so both servers do the same bookkeeping.
constexpr size_t kLineBytesMax = 4096;
constexpr size_t kOutputBytesMax = 4u << 20;
// ringmail's receive buffers are 16 KiB; a larger read buffer here would be an advantage
// only for pipelined clients, which the benchmark does not use.
constexpr size_t kReadBufferBytes = 16384;
constexpr int kMaxEvents = 256;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "%s: %s: %s\n", kProgram, what, std::strerror(errno));
  std::exit(1);
}

struct Conn {
  int fd;
  std::string in;   // a partial line carried to the next read
  std::string out;  // bytes the socket did not take yet
};

// One thread's loop: its listener, its connections, nothing shared but the stop eventfd.
class Worker {
 public:
  Worker(int listen_fd, int stop_fd) : listen_fd_(listen_fd), stop_fd_(stop_fd) {}
  void run();

 private:
  void add(int fd, uint32_t events, void* tag);
  void accept_all();
  void on_conn_event(Conn* conn, uint32_t events);
  bool read_all(Conn& conn);
  bool consume(Conn& conn, const char* data, size_t n);
  bool send_bytes(Conn& conn, const char* data, size_t n);
  bool flush_out(Conn& conn);
  void close_conn(Conn* conn);

  const int listen_fd_;
  const int stop_fd_;
  int epfd_ = -1;
  size_t open_ = 0;
  char listen_tag_ = 0;  // addresses used as epoll tags for the two non-connection fds
  char stop_tag_ = 0;
  char buf_[kReadBufferBytes];
};

void Worker::add(int fd, uint32_t events, void* tag) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = tag;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    die("epoll_ctl");
  }
}

void Worker::run() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) {
    die("epoll_create1");
  }
  add(listen_fd_, EPOLLIN, &listen_tag_);  // level-triggered: accept_all may stop early
  add(stop_fd_, EPOLLIN, &stop_tag_);      // written once, never read: wakes every thread
  epoll_event events[kMaxEvents];
  for (;;) {
    const int n = epoll_wait(epfd_, events, kMaxEvents, -1);
    if (n < 0 && errno != EINTR) {
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      void* tag = events[i].data.ptr;
      if (tag == &stop_tag_) {
        std::fprintf(stderr, "%s: stopping with %zu open connections\n", kProgram, open_);
        return;  // the process exits next; connections close with it
      }
      if (tag == &listen_tag_) {
        accept_all();
      } else {
        on_conn_event(static_cast<Conn*>(tag), events[i].events);
      }
    }
  }
}

void Worker::accept_all() {
  // Bounded so one burst of connects cannot starve the connections already open.
  for (int i = 0; i < 64; ++i) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        std::fprintf(stderr, "%s: accept4: %s\n", kProgram, std::strerror(errno));
      }
      return;
    }
    // TCP_NODELAY is inherited from the listener. Edge-triggered for both directions: the
    // kernel reports EPOLLOUT only after a send hit a full buffer, so registering it now
    // costs nothing and saves an epoll_ctl whenever output has to wait.
    auto* conn = new Conn{fd, {}, {}};
    add(fd, EPOLLIN | EPOLLOUT | EPOLLET, conn);
    ++open_;
  }
}

void Worker::on_conn_event(Conn* conn, uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP)) {
    close_conn(conn);
    return;
  }
  if ((events & EPOLLOUT) && !conn->out.empty() && !flush_out(*conn)) {
    close_conn(conn);
    return;
  }
  if ((events & EPOLLIN) && !read_all(*conn)) {
    close_conn(conn);
  }
}

// Edge-triggered: read until the socket is drained. A short read means it was (new data
// raises a new edge), which saves the extra read() that would only return EAGAIN.
// Returns false when the connection must close.
bool Worker::read_all(Conn& conn) {
  for (;;) {
    const ssize_t n = ::read(conn.fd, buf_, sizeof buf_);
    if (n > 0) {
      if (!consume(conn, buf_, static_cast<size_t>(n))) {
        return false;
      }
      if (static_cast<size_t>(n) < sizeof buf_) {
        return true;
      }
    } else if (n == 0) {
      return false;  // the peer closed; LineEcho would flush first, but nothing is pending
    } else if (errno == EINTR) {
      continue;
    } else {
      return errno == EAGAIN;
    }
  }
}

// Echoes every complete line in `data` (after any carried partial line) with one send.
bool Worker::consume(Conn& conn, const char* data, size_t n) {
  if (conn.in.empty()) {
    // The common case: no carry-over, so the lines go out straight from the read buffer.
    const auto* last_lf = static_cast<const char*>(memrchr(data, '\n', n));
    const size_t lines = last_lf == nullptr ? 0 : static_cast<size_t>(last_lf - data) + 1;
    if (lines > 0 && !send_bytes(conn, data, lines)) {
      return false;
    }
    conn.in.assign(data + lines, n - lines);
  } else {
    conn.in.append(data, n);
    const size_t last_lf = conn.in.rfind('\n');
    if (last_lf != std::string::npos) {
      if (!send_bytes(conn, conn.in.data(), last_lf + 1)) {
        return false;
      }
      conn.in.erase(0, last_lf + 1);
    }
  }
  if (conn.in.size() > kLineBytesMax) {
    static constexpr char kTooLong[] = "ERR line too long\n";
    (void)send_bytes(conn, kTooLong, sizeof kTooLong - 1);
    return false;
  }
  return true;
}

// Sends now if nothing is queued (keeps order), queues what the socket does not take.
bool Worker::send_bytes(Conn& conn, const char* data, size_t n) {
  if (!conn.out.empty()) {
    conn.out.append(data, n);
    return conn.out.size() <= kOutputBytesMax;
  }
  while (n > 0) {
    const ssize_t sent = ::send(conn.fd, data, n, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        return false;
      }
      conn.out.assign(data, n);  // EPOLLOUT (edge) will come when there is room
      return true;
    }
    data += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

bool Worker::flush_out(Conn& conn) {
  size_t done = 0;
  while (done < conn.out.size()) {
    const ssize_t sent = ::send(conn.fd, conn.out.data() + done, conn.out.size() - done, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno != EAGAIN) {
        return false;
      }
      break;
    }
    done += static_cast<size_t>(sent);
  }
  conn.out.erase(0, done);
  return true;
}

void Worker::close_conn(Conn* conn) {
  ::close(conn->fd);  // also removes it from the epoll set
  delete conn;
  --open_;
}

int open_listener(uint16_t port, uint16_t* bound_port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    die("socket");
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    die("SO_REUSEPORT");
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as ringmail's listeners
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    die("bind 127.0.0.1");
  }
  if (listen(fd, 4096) != 0) {  // the backlog ringmail uses
    die("listen");
  }
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    die("getsockname");
  }
  *bound_port = ntohs(addr.sin_port);
  return fd;
}



// Blocks SIGTERM/SIGINT before any thread exists (threads inherit the mask), so that only
// sigwait() in main sees them.
sigset_t block_stop_signals() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return mask;
}

}  // namespace

int main(int argc, char** argv) {
  const rm::bench::ServerArgs args = rm::bench::parse_server_args(kProgram, argc, argv);
  const sigset_t mask = block_stop_signals();
  const std::vector<int> cpus = rm::allowed_cpus();  // the runtime's own: same CPUs, same order
  const size_t shards = args.shards != 0 ? args.shards : cpus.size();
  const int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (stop_fd < 0) {
    die("eventfd");
  }
  // The first socket may pick the port; the others join it through SO_REUSEPORT.
  uint16_t port = args.port;
  std::vector<int> listeners;
  for (size_t i = 0; i < shards; ++i) {
    listeners.push_back(open_listener(port, &port));
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < shards; ++i) {
    threads.emplace_back([&, i] {
      cpu_set_t set;  // pinned like ringmail's shards (runtime.pin_threads)
      CPU_ZERO(&set);
      CPU_SET(cpus[i % cpus.size()], &set);
      pthread_setaffinity_np(pthread_self(), sizeof set, &set);
      auto worker = std::make_unique<Worker>(listeners[i], stop_fd);
      worker->run();
    });
  }
  std::printf("listening port=%u shards=%zu\n", unsigned{port}, shards);
  std::fflush(stdout);
  int signo = 0;
  sigwait(&mask, &signo);
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(stop_fd, &one, sizeof one);
  for (std::thread& t : threads) {
    t.join();
  }
  return 0;
}
