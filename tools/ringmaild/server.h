// The server as ringmaild assembles it: the data directory, the listeners for each
// protocol, the control socket, and the runtime that serves them.
#pragma once

#include <string>

#include "core/base/status.h"
#include "core/config/options.h"

namespace rm {

struct ServerPaths {
  std::string data_dir;
  std::string control_socket;  // data_dir/control.sock
};

inline constexpr const char* kRingmailVersion = "0.1.0";

// Creates the data directory (and parents) when missing; fails if it is not writable.
Result<ServerPaths> prepare_data_dir(const std::string& data_dir);

// Runs the server in the foreground until SIGTERM/SIGINT or `ringmail stop`.
Status run_server(const Options& options, const ServerPaths& paths);

}  // namespace rm
