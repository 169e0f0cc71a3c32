// ringmail: the admin CLI. It talks to a running ringmaild over the control socket in the
// data directory (DIR/control.sock) and prints the answer, readable by default, JSON with
// --json.
//
// SECURITY: reaches only the local control socket, whose mode limits it to the operator.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

namespace {

constexpr const char* kUsage =
    "usage: ringmail [--data DIR] <command> [--json]\n"
    "\n"
    "  --data DIR   the server's data directory (default ./var)\n"
    "  --json       print the server's answer as JSON\n"
    "\n"
    "commands:\n";

struct CliCommand {
  const char* name;
  const char* help;
};
constexpr CliCommand kCommands[] = {
    {"status", "show version, shards, connections and traffic counters"},
    {"stop", "stop the server gracefully (as SIGTERM does)"},
};

void print_usage(FILE* out) {
  std::fputs(kUsage, out);
  for (const CliCommand& c : kCommands) {
    std::fprintf(out, "  %-8s %s\n", c.name, c.help);
  }
  std::fputs("\n'ringmail <command> --help' describes one command.\n", out);
}

// Sends one command line and returns the server's one-line JSON answer.
bool call_server(const std::string& socket_path, const std::string& line, std::string& answer) {
  sockaddr_un addr;
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    std::fprintf(stderr, "ringmail: socket path too long: %s\n", socket_path.c_str());
    return false;
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "ringmail: cannot reach ringmaild at %s: %s (is it running?)\n",
                 socket_path.c_str(), std::strerror(errno));
    if (fd >= 0) ::close(fd);
    return false;
  }
  const std::string request = line + "\n";
  bool ok = ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(request.size());
  char buf[4096];
  ssize_t n;
  while (ok && (n = ::read(fd, buf, sizeof buf)) > 0) {
    answer.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r')) {
    answer.pop_back();
  }
  if (!ok || answer.empty()) {
    std::fprintf(stderr, "ringmail: no answer from ringmaild\n");
    return false;
  }
  return true;
}

// Prints a flat JSON object as "key: value" lines. Returns the exit code.
int print_readable(const std::string& answer) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(answer).get(object) != simdjson::SUCCESS) {
    std::printf("%s\n", answer.c_str());
    return 0;
  }
  bool ok = true;
  for (auto field : object) {
    if (field.key == "ok") {
      ok = field.value.is_bool() && bool(field.value.get_bool());
      continue;
    }
    std::string_view text;
    if (field.value.get_string().get(text) == simdjson::SUCCESS) {
      std::printf("%-22s %.*s\n", std::string(field.key).c_str(), static_cast<int>(text.size()),
                  text.data());
    } else {
      std::printf("%-22s %s\n", std::string(field.key).c_str(),
                  simdjson::minify(field.value).c_str());
    }
  }
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "var";
  std::vector<std::string> words;
  bool json = false;
  bool help = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--data") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ringmail: --data needs a directory\n");
        return 2;
      }
      data_dir = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--help" || arg == "-h") {
      help = true;
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "ringmail: unknown option '%s'\n", argv[i]);
      print_usage(stderr);
      return 2;
    } else {
      words.emplace_back(arg);
    }
  }
  if (words.empty()) {
    print_usage(help ? stdout : stderr);
    return help ? 0 : 2;
  }
  const CliCommand* command = nullptr;
  for (const CliCommand& c : kCommands) {
    if (words[0] == c.name) command = &c;
  }
  if (command == nullptr) {
    std::fprintf(stderr, "ringmail: unknown command '%s'\n", words[0].c_str());
    print_usage(stderr);
    return 2;
  }
  if (help) {
    std::printf("usage: ringmail [--data DIR] %s [--json]\n\n  %s\n", command->name, command->help);
    return 0;
  }
  if (words.size() > 1) {
    std::fprintf(stderr, "ringmail: %s takes no arguments\n", command->name);
    return 2;
  }
  std::string answer;
  if (!call_server(data_dir + "/control.sock", command->name, answer)) {
    return 1;
  }
  if (json) {
    std::printf("%s\n", answer.c_str());
    return answer.find("\"ok\":true") != std::string::npos ? 0 : 1;
  }
  return print_readable(answer);
}
