#include "core/reactor/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rm {
namespace {

constexpr int kListenBacklog = 4096;

// Closes the fd on every early return; release() hands it over on success.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

Result<int> open_unix(const ListenerSpec& spec) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (spec.unix_path.size() >= sizeof addr.sun_path) {
    return Status::InvalidArgument("UNIX socket path too long: " + spec.unix_path);
  }
  std::memcpy(addr.sun_path, spec.unix_path.data(), spec.unix_path.size());
  // A socket left by a server that died is stale; anything else at that path is not ours.
  struct stat st;
  if (::lstat(spec.unix_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::AlreadyExists(spec.unix_path + " exists and is not a socket");
    }
    ::unlink(spec.unix_path.c_str());
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return Status::FromErrno("socket(AF_UNIX)", errno);
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Status::FromErrno("bind " + spec.unix_path, errno);
  }
  // Only the owner (the operator running ringmaild) may talk to the control socket.
  ::chmod(spec.unix_path.c_str(), static_cast<mode_t>(spec.unix_mode));
  if (::listen(fd.get(), kListenBacklog) != 0) {
    return Status::FromErrno("listen " + spec.unix_path, errno);
  }
  return fd.release();
}

Result<int> open_tcp(const ListenerSpec& spec, uint16_t port, uint16_t* bound_port) {
  sockaddr_storage addr;
  std::memset(&addr, 0, sizeof addr);
  socklen_t addr_len = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, spec.address.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    addr_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, spec.address.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    addr_len = sizeof(sockaddr_in6);
  } else {
    return Status::InvalidArgument("listener " + spec.name + ": '" + spec.address +
                                   "' is not an IP address");
  }
  UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) {
    return Status::FromErrno("socket", errno);
  }
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return Status::FromErrno("setsockopt(SO_REUSEPORT)", errno);
  }
  if (addr.ss_family == AF_INET6) {
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  // Accepted sockets inherit TCP_NODELAY: replies are small and must not wait for Nagle.
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const std::string where = spec.address + ":" + std::to_string(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    return Status::FromErrno("listener " + spec.name + ": bind " + where, errno);
  }
  if (::listen(fd.get(), kListenBacklog) != 0) {
    return Status::FromErrno("listener " + spec.name + ": listen " + where, errno);
  }
  sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
    return Status::FromErrno("getsockname", errno);
  }
  *bound_port = ntohs(bound.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                                 : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return fd.release();
}

}  // namespace

Result<int> open_listen_socket(const ListenerSpec& spec, uint16_t port, uint16_t* bound_port) {
  *bound_port = 0;
  if (!spec.unix_path.empty()) {
    return open_unix(spec);
  }
  return open_tcp(spec, port != 0 ? port : spec.port, bound_port);
}

std::string format_peer_address(const sockaddr_storage& addr, socklen_t len) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  return "local";
}

}  // namespace rm
