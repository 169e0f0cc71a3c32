#include "core/control/control_service.h"

#include <simdjson.h>

#include <ctime>
#include <memory>

#include "core/base/log.h"
#include "core/runtime/runtime.h"

namespace rm {
namespace {

// A request line: the command and its input (a message for "dkim sign", base64 in JSON).
constexpr size_t kRequestBytesMax = size_t{128} << 20;
constexpr uint32_t kSessionTimeoutMs = 60000;

void status_command(const ControlContext& ctx, ControlReply reply) {
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
  reply(out);
}

std::vector<ControlCommand> with_builtins(const ControlContext& ctx) {
  std::vector<ControlCommand> commands = ctx.commands;
  Runtime* rt = ctx.runtime;
  commands.push_back({"status", 0, 0, [&ctx](Shard&, ControlRequest, ControlReply reply) {
                        status_command(ctx, std::move(reply));
                      }});
  commands.push_back({"stop", 0, 0, [rt](Shard&, ControlRequest, ControlReply reply) {
                        RM_LOG(kInfo, "control_stop");
                        rt->request_shutdown();
                        reply("{\"ok\":true,\"stopping\":true}");
                      }});
  return commands;
}

// Parses {"command":[...],"input":"..."}; returns an error message or "".
std::string parse_request(std::string_view line, std::vector<std::string>& words, std::string& input) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc) != simdjson::SUCCESS) {
    return "the request is not JSON";
  }
  simdjson::dom::array command;
  if (doc["command"].get_array().get(command) != simdjson::SUCCESS) {
    return "the request has no command array";
  }
  for (simdjson::dom::element word : command) {
    std::string_view text;
    if (word.get_string().get(text) != simdjson::SUCCESS) {
      return "command words must be strings";
    }
    words.emplace_back(text);
  }
  std::string_view text;
  if (doc["input"].get_string().get(text) == simdjson::SUCCESS) {
    input.assign(text);
  }
  return words.empty() ? "empty command" : "";
}

// The command whose name matches the longest prefix of `words`.
const ControlCommand* find_command(const std::vector<ControlCommand>& commands,
                                   const std::vector<std::string>& words, size_t& name_words) {
  const ControlCommand* best = nullptr;
  for (const ControlCommand& c : commands) {
    std::string joined;
    for (size_t n = 1; n <= words.size(); ++n) {
      joined += (n > 1 ? " " : "") + words[n - 1];
      if (joined == c.name && (best == nullptr || n > name_words)) {
        best = &c;
        name_words = n;
      }
    }
  }
  return best;
}

class ControlSession final : public ConnectionHandler {
 public:
  explicit ControlSession(const std::vector<ControlCommand>& commands) : commands_(commands) {}
  ~ControlSession() override { *alive_ = false; }

  void on_open(Connection& conn) override { conn.set_deadline_in(kSessionTimeoutMs); }

  size_t on_data(Connection& conn, std::string_view input) override {
    if (answered_) {
      return input.size();
    }
    // Collected here rather than left in the connection's carry-over, which is bounded by
    // limits.input_buffer_bytes_max: "dkim sign" and "dkim verify" send whole messages.
    const size_t eol = input.find('\n');
    const size_t take = eol == std::string_view::npos ? input.size() : eol;
    if (pending_.size() + take > kRequestBytesMax) {
      answered_ = true;
      finish(conn, json_error("request too long"));
      return input.size();
    }
    pending_.append(input.substr(0, take));
    if (eol == std::string_view::npos) {
      return input.size();
    }
    answered_ = true;
    const std::string line = std::move(pending_);
    pending_.clear();
    dispatch(conn, line);
    return input.size();
  }

 private:
  void dispatch(Connection& conn, std::string_view line) {
    ControlRequest request;
    std::vector<std::string> words;
    if (std::string error = parse_request(line, words, request.input); !error.empty()) {
      return finish(conn, json_error(error));
    }
    size_t name_words = 0;
    const ControlCommand* command = find_command(commands_, words, name_words);
    if (command == nullptr) {
      return finish(conn, json_error("unknown command: " + words[0]));
    }
    request.args.assign(words.begin() + static_cast<long>(name_words), words.end());
    if (request.args.size() < command->args_min || request.args.size() > command->args_max) {
      return finish(conn, json_error("wrong number of arguments for '" + command->name + "'"));
    }
    std::shared_ptr<bool> alive = alive_;
    Connection* connection = &conn;
    command->run(conn.shard(), std::move(request), [alive, connection](std::string json) {
      if (*alive) {
        finish(*connection, json);
      }
    });
  }

  static void finish(Connection& conn, const std::string& json) {
    conn.write(json + "\n");
    conn.close_after_flush();
  }

  const std::vector<ControlCommand>& commands_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool answered_ = false;
  std::string pending_;  // the request line so far
};

}  // namespace

HandlerFactory control_service_factory(ControlContext context) {
  auto shared = std::make_shared<ControlContext>(std::move(context));
  auto commands = std::make_shared<const std::vector<ControlCommand>>(with_builtins(*shared));
  return [shared, commands](Connection&) { return std::make_unique<ControlSession>(*commands); };
}

std::string json_quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
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

std::string json_error(std::string_view message) {
  return "{\"ok\":false,\"error\":" + json_quote(message) + "}";
}

}  // namespace rm
