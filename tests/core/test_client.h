// Loopback clients for the runtime and process tests: every wait is bounded by poll().
//
// Header-only: tests/CMakeLists.txt builds the files named *_test.cc, so helpers live here.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/clock.h"

namespace rm::test {

inline int64_t now_ms() {
  return monotonic_ms();
}

// Raises the soft open-file limit to at least `n` (up to the hard limit).
inline void ensure_fd_limit(rlim_t n) {
  rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < n) {
    limit.rlim_cur = std::min(n, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// `n` distinct ports that were free a moment ago (all bound with port 0 at once, then
// closed), for a server that must be told its ports.
inline std::vector<uint16_t> pick_free_ports(size_t n) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      ports.push_back(ntohs(addr.sin_port));
    }
    fds.push_back(fd);
  }
  for (int fd : fds) {
    ::close(fd);
  }
  return ports;
}

// Waits for `events` on `fd` until `deadline` (monotonic ms). False on timeout.
inline bool poll_until(int fd, short events, int64_t deadline) {
  for (;;) {
    const int64_t left = deadline - now_ms();
    if (left <= 0) {
      return false;
    }
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) {
      return true;
    }
    if (rc < 0 && errno != EINTR) {
      return false;
    }
  }
}

// One non-blocking stream socket used with bounded waits.
class Client {
 public:
  Client() = default;
  explicit Client(int fd) : fd_(fd) {}
  ~Client() { close(); }
  Client(Client&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), buffered_(std::move(other.buffered_)) {}
  Client& operator=(Client&& other) noexcept {
    if (this != &other) {
      close();
      fd_ = std::exchange(other.fd_, -1);
      buffered_ = std::move(other.buffered_);
    }
    return *this;
  }

  // 127.0.0.1:port, with TCP_NODELAY so that each send leaves as its own segment.
  static Client tcp(uint16_t port, int timeout_ms = 5000) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Client c(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    const int one = 1;
    ::setsockopt(c.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.finish_connect(reinterpret_cast<sockaddr*>(&addr), sizeof addr, timeout_ms);
    return c;
  }

  static Client unix_socket(const std::string& path, int timeout_ms = 5000) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    Client c(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    c.finish_connect(reinterpret_cast<sockaddr*>(&addr), sizeof addr, timeout_ms);
    return c;
  }

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  bool send_all(std::string_view data, int timeout_ms = 5000) {
    const int64_t deadline = now_ms() + timeout_ms;
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        if (!poll_until(fd_, POLLOUT, deadline)) {
          return false;
        }
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    return true;
  }

  // Up to and including the next LF; what arrived so far if the wait ends first.
  std::string read_line(int timeout_ms = 5000) {
    const int64_t deadline = now_ms() + timeout_ms;
    size_t eol;
    while ((eol = buffered_.find('\n')) == std::string::npos && fill(deadline) > 0) {
    }
    return take(eol == std::string::npos ? buffered_.size() : eol + 1);
  }

  // Exactly `n` bytes, or fewer if the peer closed or the wait ended first.
  std::string read_n(size_t n, int timeout_ms = 5000) {
    const int64_t deadline = now_ms() + timeout_ms;
    while (buffered_.size() < n && fill(deadline) > 0) {
    }
    return take(std::min(n, buffered_.size()));
  }

  // Everything until the peer closes (EOF or reset). `*closed` is false if time ran out.
  std::string read_until_closed(int timeout_ms, bool* closed) {
    const int64_t deadline = now_ms() + timeout_ms;
    int rc;
    while ((rc = fill(deadline)) > 0) {
    }
    *closed = rc == 0;
    return take(buffered_.size());
  }

  // True if the peer closed within `timeout_ms` and sent nothing more before that.
  bool closed_without_data(int timeout_ms = 5000) {
    bool closed = false;
    return read_until_closed(timeout_ms, &closed).empty() && closed;
  }

 private:
  void finish_connect(sockaddr* addr, socklen_t len, int timeout_ms) {
    if (fd_ < 0 || ::connect(fd_, addr, len) == 0) {
      return;
    }
    int err = errno;
    if (err == EINPROGRESS && poll_until(fd_, POLLOUT, now_ms() + timeout_ms)) {
      socklen_t err_len = sizeof err;
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
      if (err == 0) {
        return;
      }
    }
    close();
  }

  // Reads what is available into buffered_: >0 bytes read, 0 closed (EOF/error), -1 timeout.
  int fill(int64_t deadline) {
    for (;;) {
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        buffered_.append(buf, static_cast<size_t>(n));
        return 1;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        return 0;
      }
      if (errno == EAGAIN && !poll_until(fd_, POLLIN, deadline)) {
        return -1;
      }
    }
  }

  std::string take(size_t n) {
    std::string out = buffered_.substr(0, n);
    buffered_.erase(0, n);
    return out;
  }

  int fd_ = -1;
  std::string buffered_;
};

// A client that sends `payload` and expects it echoed back, driven by run_echo_jobs().
struct EchoJob {
  Client client;
  std::string payload;
  std::vector<size_t> pieces;  // sizes of successive sends, cycled; empty: as much as fits
  std::string received;
  size_t sent = 0;
  size_t sends = 0;
  bool closed = false;
  bool done() const { return closed || received.size() >= payload.size(); }
};

// Drives every job from one poll loop, sending and reading at once, until each has
// received as many bytes as it sent, its peer closed, or `timeout_ms` passed. Returns true
// when every job finished in time.
inline bool run_echo_jobs(std::vector<EchoJob>& jobs, int timeout_ms) {
  const int64_t deadline = now_ms() + timeout_ms;
  std::vector<pollfd> fds;
  std::vector<EchoJob*> live;
  char buf[65536];
  for (;;) {
    fds.clear();
    live.clear();
    for (EchoJob& job : jobs) {
      if (!job.done()) {
        const short events = job.sent < job.payload.size() ? POLLIN | POLLOUT : POLLIN;
        fds.push_back(pollfd{job.client.fd(), events, 0});
        live.push_back(&job);
      }
    }
    const int64_t left = deadline - now_ms();
    if (live.empty() || left <= 0) {
      return live.empty();
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::min<int64_t>(left, 100))) < 0 &&
        errno != EINTR) {
      return false;
    }
    for (size_t i = 0; i < live.size(); ++i) {
      EchoJob& job = *live[i];
      if ((fds[i].revents & POLLOUT) && job.sent < job.payload.size()) {
        size_t len = job.payload.size() - job.sent;
        if (!job.pieces.empty()) {
          len = std::min(len, job.pieces[job.sends % job.pieces.size()]);
        }
        const ssize_t n = ::send(job.client.fd(), job.payload.data() + job.sent, len, MSG_NOSIGNAL);
        if (n > 0) {
          job.sent += static_cast<size_t>(n);
          ++job.sends;
        }
      }
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(job.client.fd(), buf, sizeof buf, 0);
        if (n > 0) {
          job.received.append(buf, static_cast<size_t>(n));
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          job.closed = true;
        }
      }
    }
  }
}

}  // namespace rm::test
