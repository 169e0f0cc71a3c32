// Shard::connect and its completions; SocketAddress.
//
// A connect is a pending entry (socket, destination, callbacks) keyed like a connection.
// IORING_OP_CONNECT goes to the ring linked to an IORING_OP_LINK_TIMEOUT, both in one
// submission; when the timeout fires the kernel cancels the connect, which completes with
// -ECANCELED. The entry lives until the connect's own completion, because the kernel may
// read the address and own the socket until then; only then is the socket closed or handed
// to a Connection.
#include "core/reactor/outbound.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "core/base/log.h"
#include "core/reactor/listener.h"
#include "core/reactor/shard.h"
#include "core/reactor/user_data.h"

namespace rm {
namespace {

// The name outbound connections carry where accepted ones name their listener.
constexpr std::string_view kOutboundName = "outbound";

void bump(std::atomic<uint64_t>& counter) {
  counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

}  // namespace

// ---- SocketAddress ----

Result<SocketAddress> SocketAddress::parse(std::string_view ip, uint16_t port) {
  std::optional<IpAddress> parsed = parse_ip(ip);
  if (!parsed) {
    return Status::InvalidArgument("'" + std::string(ip) + "' is not an IP address");
  }
  return from_ip(*parsed, port);
}

SocketAddress SocketAddress::from_ip(const IpAddress& ip, uint16_t port) {
  SocketAddress out;
  if (ip.v6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, ip.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&out.storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    std::memcpy(&in4->sin_addr, ip.bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  }
  return out;
}

uint16_t SocketAddress::port() const {
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  }
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  }
  return 0;
}

std::string SocketAddress::to_string() const {
  return format_peer_address(storage, length);
}

// ---- connect ----

uint64_t Shard::connect(const ConnectSpec& spec, HandlerFactory on_connected,
                        ConnectFailed on_failed) {
  RM_ASSERT(current() == this && on_connected && on_failed);
  PendingConnect entry;
  entry.destination = spec.destination;
  entry.output_bytes_max = spec.output_bytes_max;
  entry.on_connected = std::move(on_connected);
  entry.on_failed = std::move(on_failed);
  const uint64_t key = connects_.insert(std::move(entry));
  PendingConnect& pending = *connects_.find(key);
  Status status;
  if (draining_) {
    status = Status::Unavailable("connect " + spec.destination.to_string() + ": shutting down");
  } else {
    status = open_connect_socket(spec, pending);
  }
  if (!status.ok()) {
    fail_connect_later(key, std::move(status));
    return key;
  }
  submit_connect(key, pending, spec.timeout_ms);
  RM_LOG(kDebug, "connect_started").kv("to", pending.destination.to_string()).kv("id", key);
  return key;
}

Status Shard::open_connect_socket(const ConnectSpec& spec, PendingConnect& pending) {
  const std::string where = spec.destination.to_string();
  const int family = spec.destination.family();
  if (family != AF_INET && family != AF_INET6) {
    return Status::InvalidArgument("connect: the destination is not an IPv4 or IPv6 address");
  }
  if (!spec.source.empty() && spec.source.family() != family) {
    return Status::InvalidArgument("connect " + where + ": source " + spec.source.to_string() +
                                   " is of another address family");
  }
  pending.fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (pending.fd < 0) {
    return Status::FromErrno("connect " + where + ": socket", errno);
  }
  const int one = 1;
  ::setsockopt(pending.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!spec.source.empty()) {
    // Choose the port at connect time: a source address shared by many connections must
    // not run out of ports at bind time.
    ::setsockopt(pending.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (::bind(pending.fd, spec.source.get(), spec.source.length) != 0) {
      return Status::FromErrno("connect " + where + ": bind " + spec.source.to_string(), errno);
    }
  }
  return Status::Ok();
}

void Shard::submit_connect(uint64_t key, PendingConnect& pending, uint32_t timeout_ms) {
  const uint32_t bounded_ms = std::max<uint32_t>(timeout_ms, 1);
  pending.timeout.tv_sec = bounded_ms / 1000;
  pending.timeout.tv_nsec = static_cast<long long>(bounded_ms % 1000) * 1000000;
  ring_->reserve_sqes(2);
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_connect(sqe, pending.fd, pending.destination.get(), pending.destination.length);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kConnect, key));
  sqe->flags |= IOSQE_IO_LINK;
  sqe = ring_->next_sqe();
  io_uring_prep_link_timeout(sqe, &pending.timeout, 0);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kLinkTimeout, key));
  pending.submitted = true;
}

// A connect that failed before reaching the kernel still reports from the shard's loop,
// so that callers see one behaviour.
void Shard::fail_connect_later(uint64_t key, Status status) {
  defer([this, key, status = std::move(status)] {
    PendingConnect* pending = connects_.find(key);
    if (pending == nullptr) {
      return;  // cancelled meanwhile
    }
    ConnectFailed on_failed = std::move(pending->on_failed);
    if (pending->fd >= 0) {
      ::close(pending->fd);
    }
    connects_.erase(key);
    bump(counters_.outbound_failed);
    RM_LOG(kDebug, "connect_failed").kv("id", key).kv("error", status);
    on_failed(status);
  });
}

bool Shard::cancel_connect(uint64_t id) {
  PendingConnect* pending = connects_.find(id);
  if (pending == nullptr || pending->cancel == ConnectCancel::kByCaller) {
    return false;
  }
  if (!pending->submitted) {
    if (pending->fd >= 0) {
      ::close(pending->fd);
    }
    connects_.erase(id);
    return true;
  }
  pending->cancel = ConnectCancel::kByCaller;
  pending->on_connected = nullptr;
  pending->on_failed = nullptr;
  io_uring_sqe* sqe = ring_->next_sqe();
  io_uring_prep_cancel64(sqe, make_user_data(Op::kConnect, id), 0);
  io_uring_sqe_set_data64(sqe, make_user_data(Op::kCancel, 0));
  return true;
}

void Shard::cancel_connects_for_shutdown() {
  for (uint64_t key : connects_.keys()) {
    PendingConnect& pending = *connects_.find(key);
    if (pending.submitted && pending.cancel == ConnectCancel::kNone) {
      pending.cancel = ConnectCancel::kShutdown;
      io_uring_sqe* sqe = ring_->next_sqe();
      io_uring_prep_cancel64(sqe, make_user_data(Op::kConnect, key), 0);
      io_uring_sqe_set_data64(sqe, make_user_data(Op::kCancel, 0));
    }
  }
}

void Shard::on_connect(uint64_t key, const Completion& c) {
  PendingConnect* found = connects_.find(key);
  if (found == nullptr) {
    return;
  }
  PendingConnect pending = std::move(*found);
  connects_.erase(key);
  const std::string where = pending.destination.to_string();
  if (pending.cancel == ConnectCancel::kByCaller) {
    ::close(pending.fd);
    RM_LOG(kDebug, "connect_cancelled").kv("id", key).kv("to", where);
    return;
  }
  Status status;
  if (pending.cancel == ConnectCancel::kShutdown || (c.res == 0 && draining_)) {
    status = Status::Unavailable("connect " + where + ": shutting down");
  } else if (c.res < 0) {
    // The linked timeout cancels the connect: -ECANCELED (-EINTR where a worker ran it).
    const int err = (c.res == -ECANCELED || c.res == -EINTR) ? ETIMEDOUT : -c.res;
    status = Status::FromErrno("connect " + where, err);
  }
  if (!status.ok()) {
    ::close(pending.fd);
    bump(counters_.outbound_failed);
    RM_LOG(kDebug, "connect_failed").kv("id", key).kv("error", status);
    pending.on_failed(status);
    return;
  }
  Connection& conn =
      register_connection(pending.fd, where, kOutboundName, false, pending.output_bytes_max);
  bump(counters_.outbound_connected);
  RM_LOG(kDebug, "connect").kv("conn", conn.id()).kv("peer", conn.peer());
  start_connection(conn, pending.on_connected);
}

}  // namespace rm
