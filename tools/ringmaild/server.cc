#include "tools/ringmaild/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "core/base/log.h"
#include "core/control/control_service.h"
#include "core/runtime/runtime.h"
#include "core/services/fixed_reply.h"

namespace rm {
namespace {

Status make_dirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') {
      continue;
    }
    const std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0750) != 0 && errno != EEXIST) {
      return Status::FromErrno("mkdir " + prefix, errno);
    }
  }
  return Status::Ok();
}

struct PendingProtocol {
  const char* name;
  const ListenerOptions& listener;
  const char* reply;
};

}  // namespace

Result<ServerPaths> prepare_data_dir(const std::string& data_dir) {
  if (data_dir.empty()) {
    return Status::InvalidArgument("--data needs a directory");
  }
  RM_RETURN_IF_ERROR(make_dirs(data_dir));
  if (::access(data_dir.c_str(), W_OK | X_OK) != 0) {
    return Status::FromErrno("data directory " + data_dir + " is not writable", errno);
  }
  ServerPaths paths;
  paths.data_dir = data_dir;
  paths.control_socket = data_dir + "/control.sock";
  return paths;
}

Status run_server(const Options& options, const ServerPaths& paths) {
  Runtime runtime(options);
  ControlContext control{&runtime, kRingmailVersion, paths.data_dir, std::time(nullptr)};
  runtime.add_listener(ListenerSpec{"control", "", 0, paths.control_socket,
                                    control_service_factory(control), ""});

  // Protocols not served by this build yet answer with their "not available" reply.
  const std::string host = options.server.hostname;
  const std::string smtp = "421 4.3.2 " + host + " Service not available, closing channel\r\n";
  const std::string imap = "* BYE " + host + " IMAP service not available\r\n";
  const std::string pop3 = "-ERR [SYS/TEMP] " + host + " POP3 service not available\r\n";
  const PendingProtocol pending[] = {
      {"smtp", options.listeners.smtp, smtp.c_str()},
      {"submission", options.listeners.submission, smtp.c_str()},
      {"submissions", options.listeners.submissions, ""},
      {"imap", options.listeners.imap, imap.c_str()},
      {"imaps", options.listeners.imaps, ""},
      {"pop3", options.listeners.pop3, pop3.c_str()},
      {"pop3s", options.listeners.pop3s, ""},
  };
  for (const PendingProtocol& p : pending) {
    if (!p.listener.enabled) {
      continue;
    }
    // Implicit-TLS ports (empty reply) just close until TLS exists: plain text there would
    // confuse a TLS client.
    runtime.add_listener(ListenerSpec{p.name, p.listener.address,
                                      static_cast<uint16_t>(p.listener.port), "",
                                      FixedReply::factory(p.reply), p.reply});
  }
  RM_RETURN_IF_ERROR(runtime.start());
  RM_LOG(kInfo, "ready").kv("version", kRingmailVersion).kv("data", paths.data_dir);
  Status status = runtime.wait();
  ::unlink(paths.control_socket.c_str());
  RM_LOG(kInfo, "stopped").kv("status", status);
  return status;
}

}  // namespace rm
