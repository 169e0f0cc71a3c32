// Outbound TCP connections: what Shard::connect() takes, and socket addresses.
//
//   ConnectSpec spec;
//   spec.destination = SocketAddress::from_ip(mx_ip, 25);
//   spec.timeout_ms = 30000;
//   shard.connect(spec,
//                 [](Connection& conn) { return std::make_unique<SmtpClient>(conn); },
//                 [](const Status& why) { /* refused, timed out, unreachable, ... */ });
//
// The connect is an IORING_OP_CONNECT on the shard's ring with a linked timeout. Once it
// succeeds the socket is an ordinary Connection (multishot receive, ordered output,
// deadlines, stream filter, close), driven by the handler the factory returns, whose
// on_open() runs first. Outbound connections do not count toward limits.connections_max.
// Thread-safety: values; Shard::connect() runs on the shard's own thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/net/cidr.h"

namespace rm {

// An IPv4 or IPv6 address and port, as the kernel takes it.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;  // 0: no address

  // `ip` is an IPv4 or IPv6 literal ("127.0.0.1", "::1").
  static Result<SocketAddress> parse(std::string_view ip, uint16_t port);
  static SocketAddress from_ip(const IpAddress& ip, uint16_t port);

  bool empty() const { return length == 0; }
  int family() const { return storage.ss_family; }
  uint16_t port() const;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  // "ip:port" or "[v6]:port", as Connection::peer() spells it.
  std::string to_string() const;
};

struct ConnectSpec {
  SocketAddress destination;
  // The local address to connect from (e.g. the one the receiving MX knows us by); its
  // port is normally 0. Empty: the kernel picks.
  SocketAddress source;
  uint32_t timeout_ms = 30000;  // for the TCP handshake; then the handler sets deadlines
  size_t output_bytes_max = 0;  // unsent output the connection may hold; 0 = limits default
};

// Runs on the shard thread when a connect fails: refused, timed out, unreachable, no
// descriptors, the shard shutting down. An IoError status names the errno (its message
// ends with strerror()); a shutdown is Unavailable.
using ConnectFailed = std::function<void(const Status& status)>;

}  // namespace rm
