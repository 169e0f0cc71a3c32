#include "core/control/control_service.h"

#include <ctime>
#include <memory>

#include "core/base/log.h"
#include "core/runtime/runtime.h"

namespace rm {
namespace {

constexpr size_t kCommandBytesMax = 4096;

std::string status_json(const ControlContext& ctx, std::string_view /*args*/) {
  Runtime& rt = *ctx.runtime;
  uint64_t open = 0, accepted = 0, refused = 0, bytes_in = 0, bytes_out = 0, enobufs = 0;
  for (int i = 0; i < rt.shard_count(); ++i) {
    const ShardCounters& c = rt.shard(i).counters();
    open += c.open.load(std::memory_order_relaxed);
    accepted += c.accepted.load(std::memory_order_relaxed);
    refused += c.refused_overload.load(std::memory_order_relaxed);
    bytes_in += c.bytes_in.load(std::memory_order_relaxed);
    bytes_out += c.bytes_out.load(std::memory_order_relaxed);
    enobufs += c.recv_enobufs.load(std::memory_order_relaxed);
  }
  std::string out = "{\"ok\":true,\"version\":" + json_quote(ctx.version);
  out += ",\"data_dir\":" + json_quote(ctx.data_dir);
  out += ",\"uptime_s\":" + std::to_string(std::time(nullptr) - ctx.started_unix_s);
  out += ",\"shards\":" + std::to_string(rt.shard_count());
  out += ",\"ring\":" + json_quote(rt.shard(0).ring_mode());
  out += ",\"connections_open\":" + std::to_string(open);
  out += ",\"connections_accepted\":" + std::to_string(accepted);
  out += ",\"connections_refused\":" + std::to_string(refused);
  out += ",\"bytes_in\":" + std::to_string(bytes_in);
  out += ",\"bytes_out\":" + std::to_string(bytes_out);
  out += ",\"recv_enobufs\":" + std::to_string(enobufs) + "}";
  return out;
}

std::string stop_json(const ControlContext& ctx, std::string_view /*args*/) {
  RM_LOG(kInfo, "control_stop");
  ctx.runtime->request_shutdown();
  return "{\"ok\":true,\"stopping\":true}";
}

class ControlSession final : public ConnectionHandler {
 public:
  explicit ControlSession(const ControlContext& ctx) : ctx_(ctx) {}

  void on_open(Connection& conn) override { conn.set_deadline_in(10000); }

  size_t on_data(Connection& conn, std::string_view input) override {
    const size_t eol = input.find('\n');
    if (eol == std::string_view::npos) {
      if (input.size() > kCommandBytesMax) {
        reply(conn, "{\"ok\":false,\"error\":\"command too long\"}");
        return input.size();
      }
      return 0;
    }
    std::string_view line = input.substr(0, eol);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    const size_t space = line.find(' ');
    const std::string_view name = line.substr(0, space);
    const std::string_view args = space == std::string_view::npos ? "" : line.substr(space + 1);
    for (const ControlCommand& command : control_commands()) {
      if (command.name == name) {
        reply(conn, command.run(ctx_, args));
        return input.size();
      }
    }
    reply(conn, "{\"ok\":false,\"error\":" + json_quote("unknown command: " + std::string(name)) + "}");
    return input.size();
  }

 private:
  static void reply(Connection& conn, const std::string& json) {
    conn.write(json + "\n");
    conn.close_after_flush();
  }
  const ControlContext& ctx_;
};

}  // namespace

const std::vector<ControlCommand>& control_commands() {
  static const std::vector<ControlCommand> commands = {
      {"status", "server version, shards, connections and traffic counters", status_json},
      {"stop", "graceful shutdown, as on SIGTERM", stop_json},
  };
  return commands;
}

HandlerFactory control_service_factory(ControlContext context) {
  auto shared = std::make_shared<const ControlContext>(std::move(context));
  return [shared](Connection&) { return std::make_unique<ControlSession>(*shared); };
}

std::string json_quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace rm
