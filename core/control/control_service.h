// ControlService: the daemon's side of the admin CLI, on a UNIX socket in the data dir.
//
// Protocol: the client sends one command line ("status", "stop", ...) ending in LF; the
// server answers with one JSON object on one line and closes. Unknown commands get
// {"ok":false,"error":"..."}. Commands are a table so that later features (queue, users,
// domains) add rows, not branches.
// Who can reach it: only local users allowed by the socket's mode (0600: the operator).
// Untrusted input: the command line (bounded to 4 KiB).
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

struct ControlContext {
  Runtime* runtime = nullptr;
  std::string version;
  std::string data_dir;
  int64_t started_unix_s = 0;
};

struct ControlCommand {
  std::string_view name;
  std::string_view help;
  // Receives the arguments after the name; returns the JSON reply (one line, no LF).
  std::function<std::string(const ControlContext&, std::string_view args)> run;
};

const std::vector<ControlCommand>& control_commands();
HandlerFactory control_service_factory(ControlContext context);

// JSON string literal for `text` (quotes included).
std::string json_quote(std::string_view text);

}  // namespace rm
