// ControlService: the daemon's side of the admin CLI, on a UNIX socket in the data dir.
//
// Protocol: the client sends one JSON object on one line,
//   {"command": ["queue", "show", "0661..."], "input": "text from the CLI's stdin"}
// and the server answers with one JSON object on one line — {"ok": true, ...} or
// {"ok": false, "error": "..."} — then closes. Commands are a table (name, usage, handler);
// ringmaild adds the rows for queue, users and domains. A handler may answer later (after
// work on the blocking lane) by calling its ControlReply once, on the same shard.
// Who can reach it: only local users allowed by the socket's mode (0600: the operator).
// Untrusted input: the request line (bounded to 128 MiB: it may carry a message).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/reactor/connection.h"
#include "core/reactor/listener.h"

namespace rm {

class Runtime;

struct ControlRequest {
  std::vector<std::string> args;  // the words after the command's name
  std::string input;              // the CLI's stdin, when the command reads one
};

// Answers a request: a JSON object (no newline). Call exactly once, on the request's shard.
using ControlReply = std::function<void(std::string json)>;

struct ControlCommand {
  std::string name;  // "status", "queue list", "user add", ...
  size_t args_min = 0;
  size_t args_max = 0;
  std::function<void(Shard& shard, ControlRequest request, ControlReply reply)> run;
};

struct ControlContext {
  Runtime* runtime = nullptr;
  std::string version;
  std::string data_dir;
  int64_t started_unix_s = 0;
  std::vector<ControlCommand> commands;  // added to the built-in status and stop
};

HandlerFactory control_service_factory(ControlContext context);

// JSON string literal for `text` (quotes included).
std::string json_quote(std::string_view text);
// {"ok":false,"error":"..."}
std::string json_error(std::string_view message);

}  // namespace rm
