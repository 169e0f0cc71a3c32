// ListenerSpec: what a shard listens on and which handler serves each accepted connection;
// and the socket set-up for it.
//
// TCP listeners get one socket per shard with SO_REUSEPORT, so the kernel spreads
// connections over the shards. A UNIX-socket listener (the control socket) lives on shard 0
// only.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/base/status.h"
#include "core/reactor/connection_handler.h"

namespace rm {

class Connection;

// Called on the accepting shard's thread; must be safe to call from every shard.
using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;

struct ListenerSpec {
  std::string name;            // for logs: "smtp", "control", ...
  std::string address;         // IPv4/IPv6 literal (TCP)
  uint16_t port = 0;           // 0: the kernel picks one; bound_port() tells which
  std::string unix_path;       // non-empty: a UNIX stream socket at this path instead
  HandlerFactory factory;
  // Sent, best effort, to a connection refused because the shard is at its limit
  // (e.g. "421 4.3.2 Too many connections\r\n"); empty: just close.
  std::string overload_reply;
  // False for the control socket: an operator must get in even when clients fill the server.
  bool counts_toward_limit = true;
  // Unsent output a connection may hold; 0 = limits.output_buffer_bytes_max. The control
  // socket answers with whole messages, so it needs more than a protocol session.
  size_t output_bytes_max = 0;
  uint32_t unix_mode = 0600;  // the UNIX socket's permissions
};

// Creates a listening socket for `spec`; `port` overrides spec.port (0 = spec.port).
// Returns the fd; `bound_port` receives the port actually bound (TCP).
Result<int> open_listen_socket(const ListenerSpec& spec, uint16_t port, uint16_t* bound_port);

// "ip:port" text for a peer address.
std::string format_peer_address(const sockaddr_storage& addr, socklen_t len);

}  // namespace rm
