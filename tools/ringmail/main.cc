// ringmail: the admin CLI. It talks to a running ringmaild over the control socket in the
// data directory (DIR/control.sock) and prints the answer, readable by default, JSON with
// --json. Exit codes: 0 done, 1 the server refused or is unreachable, 2 usage error.
//
// SECURITY: reaches only the local control socket, whose mode limits it to the operator.
// Passwords are read from stdin (without echo on a terminal), never from the command line.
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/base/base64.h"
#include "core/control/control_service.h"

namespace {

struct CliCommand {
  const char* name;   // "queue show"
  const char* args;   // "ID"
  const char* help;
  bool reads_password = false;
  const char* server_name = nullptr;  // the server's command, when it differs
  bool reads_message = false;         // sends stdin (a message) to the server
  bool prints_body = false;           // the answer's "body" is written to stdout as is
};

// The largest message "dkim sign" and "dkim verify" send (the server has the same limit).
constexpr size_t kMessageBytesMax = size_t{64} << 20;

constexpr CliCommand kCommands[] = {
    {"status", "", "show version, shards, connections and traffic counters"},
    {"stop", "", "stop the server gracefully (as SIGTERM does)"},
    {"queue list", "", "list the queued messages (the mailq)"},
    {"queue show", "ID", "show one message's envelope and headers"},
    {"queue cat", "ID", "write a message exactly as queued (headers and body) to stdout", false,
     "queue body"},
    {"queue delete", "ID", "delete a message from the queue"},
    {"queue hold", "ID", "keep a message from being delivered"},
    {"queue release", "ID", "let a held message be delivered again (tried at once)"},
    {"queue flush", "[ID]", "try one message, or every queued message, now"},
    {"mailbox list", "ADDRESS [MAILBOX]", "list the messages in an account's mailbox (INBOX)"},
    {"mailbox cat", "ADDRESS UID", "write a message from an account's INBOX to stdout", false,
     "mailbox body"},
    {"alias add", "ADDRESS TARGET...",
     "make ADDRESS (or @DOMAIN, a catch-all) deliver to the TARGET addresses"},
    {"alias del", "ADDRESS", "delete an alias"},
    {"alias list", "", "list the aliases"},
    {"user add", "ADDRESS", "add a mail account; the password is read from stdin", true},
    {"user passwd", "ADDRESS", "change an account's password (read from stdin)", true},
    {"user del", "ADDRESS", "delete a mail account"},
    {"user list", "", "list the mail accounts"},
    {"user delivery", "ADDRESS SPEC",
     "deliver an account's mail to SPEC: store (default), maildir:/PATH or mbox:/PATH"},
    {"domain add", "DOMAIN", "add a local domain"},
    {"domain del", "DOMAIN", "delete a local domain (it must have no users)"},
    {"domain list", "", "list the local domains"},
    {"domain delivery", "DOMAIN SPEC",
     "deliver the domain's mail to SPEC (store, maildir:/PATH, mbox:/PATH; %u %d %a expand)"},
    {"spf check", "IP SENDER HELO",
     "evaluate SPF for a client IP, MAIL FROM and HELO as the server would"},
    {"dkim keygen", "DOMAIN SELECTOR [--ed25519]",
     "make and store a DKIM key (RSA-2048 by default); prints the DNS TXT record to publish"},
    {"dkim list", "", "list the DKIM keys and their DNS records"},
    {"dkim del", "DOMAIN SELECTOR", "delete a DKIM key"},
    {"dkim sign", "[--domain=DOMAIN]",
     "sign the message on stdin with the stored keys of its From domain; prints it signed",
     false, nullptr, true, true},
    {"dkim verify", "",
     "verify every DKIM signature of the message on stdin (keys from DNS, as the server sees them)",
     false, nullptr, true},
};

void print_usage(FILE* out, std::string_view group) {
  std::fprintf(out, "usage: ringmail [--data DIR] [--json] <command> [args]\n\n"
                    "  --data DIR   the server's data directory (default ./var)\n"
                    "  --json       print the server's answer as JSON\n\ncommands:\n");
  for (const CliCommand& c : kCommands) {
    if (group.empty() || std::string_view(c.name).substr(0, group.size()) == group) {
      std::string usage = std::string(c.name) + (*c.args ? std::string(" ") + c.args : "");
      std::fprintf(out, "  %-26s %s\n", usage.c_str(), c.help);
    }
  }
}

bool call_server(const std::string& socket_path, const std::string& request, std::string& answer) {
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
  const std::string line = request + "\n";
  bool ok = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size());
  char buf[65536];
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

// One line from stdin; without echo when stdin is a terminal.
std::string read_password() {
  termios saved;
  const bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    std::fprintf(stderr, "Password: ");
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fprintf(stderr, "\n");
  }
  if (!password.empty() && password.back() == '\r') {
    password.pop_back();
  }
  return password;
}

// All of stdin, up to kMessageBytesMax; nullopt (with a message) when it is longer.
std::optional<std::string> read_message() {
  std::string message;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
    if (message.size() + n > kMessageBytesMax) {
      std::fprintf(stderr, "ringmail: the message is over %zu MiB\n", kMessageBytesMax >> 20);
      return std::nullopt;
    }
    message.append(buf, n);
  }
  return message;
}

std::string text_of(simdjson::dom::element value) {
  std::string_view text;
  if (value.get_string().get(text) == simdjson::SUCCESS) {
    return std::string(text);
  }
  return simdjson::minify(value);
}

void print_table(simdjson::dom::array rows) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header;
  for (simdjson::dom::element row : rows) {
    simdjson::dom::object object;
    if (row.get_object().get(object) != simdjson::SUCCESS) continue;
    std::vector<std::string> line;
    for (auto field : object) {
      if (cells.empty()) header.emplace_back(field.key);
      line.push_back(text_of(field.value));
    }
    cells.push_back(std::move(line));
  }
  if (cells.empty()) {
    std::printf("(none)\n");
    return;
  }
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& line : cells) width[c] = std::max(width[c], c < line.size() ? line[c].size() : 0);
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    for (size_t c = 0; c < line.size() && c < width.size(); ++c) {
      if (c + 1 == line.size()) {
        std::printf("%s\n", line[c].c_str());
      } else {
        std::printf("%-*s  ", static_cast<int>(width[c]), line[c].c_str());
      }
    }
  };
  for (std::string& h : header) {
    for (char& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  }
  print_line(header);
  for (const auto& line : cells) print_line(line);
}

// Prints the answer for people: key/value lines, arrays as tables. Returns the exit code.
int print_readable(const std::string& answer) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(answer).get(object) != simdjson::SUCCESS) {
    std::printf("%s\n", answer.c_str());
    return 1;
  }
  bool ok = false;
  std::string error;
  for (auto field : object) {
    if (field.key == "ok") {
      ok = field.value.is_bool() && bool(field.value.get_bool());
    } else if (field.key == "error") {
      error = text_of(field.value);
    } else if (field.value.is_array() && field.key != "recipients") {
      print_table(field.value.get_array());
    } else if (field.key == "headers") {
      std::printf("%s", text_of(field.value).c_str());
    } else if (field.value.is_array()) {
      std::printf("%-12s\n", std::string(field.key).c_str());
      print_table(field.value.get_array());
    } else {
      std::printf("%-22s %s\n", std::string(field.key).c_str(), text_of(field.value).c_str());
    }
  }
  if (!ok) {
    std::fprintf(stderr, "ringmail: %s\n", error.empty() ? "the server refused" : error.c_str());
  }
  return ok ? 0 : 1;
}

// `queue cat`: the raw message bytes, decoded from the answer's base64.
int print_body(const std::string& answer) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view encoded;
  if (parser.parse(answer).get(doc) != simdjson::SUCCESS ||
      doc["body"].get_string().get(encoded) != simdjson::SUCCESS) {
    return print_readable(answer);
  }
  std::optional<std::string> body = rm::base64_decode(encoded);
  if (!body) {
    std::fprintf(stderr, "ringmail: the server sent a malformed body\n");
    return 1;
  }
  std::fwrite(body->data(), 1, body->size(), stdout);
  return 0;
}

const CliCommand* match(const std::vector<std::string>& words, size_t& name_words) {
  const CliCommand* best = nullptr;
  for (const CliCommand& c : kCommands) {
    std::string joined;
    for (size_t n = 1; n <= words.size() && n <= 2; ++n) {
      joined += (n > 1 ? " " : "") + words[n - 1];
      if (joined == c.name) {
        best = &c;
        name_words = n;
      }
    }
  }
  return best;
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
    } else if (arg == "--ed25519" || arg.starts_with("--domain=")) {
      words.emplace_back(arg);  // options of dkim keygen and dkim sign, for the server
    } else if (arg.size() > 1 && arg[0] == '-') {
      std::fprintf(stderr, "ringmail: unknown option '%s'\n", argv[i]);
      print_usage(stderr, "");
      return 2;
    } else {
      words.emplace_back(arg);
    }
  }
  size_t name_words = 0;
  const CliCommand* command = match(words, name_words);
  if (command == nullptr) {
    const std::string group = words.empty() ? "" : words[0];
    if (help || words.empty()) {
      print_usage(help ? stdout : stderr, group);
      return help ? 0 : 2;
    }
    std::fprintf(stderr, "ringmail: unknown command '%s'\n", group.c_str());
    print_usage(stderr, "");
    return 2;
  }
  if (help) {
    std::printf("usage: ringmail [--data DIR] [--json] %s %s\n\n  %s\n", command->name, command->args,
                command->help);
    return 0;
  }
  const size_t args = words.size() - name_words;
  size_t args_min = 0;
  size_t args_max = 0;
  for (std::string_view spec = command->args; !spec.empty();) {
    const size_t space = spec.find(' ');
    const std::string_view word = spec.substr(0, space);
    args_max = word.ends_with("...") ? SIZE_MAX : args_max + 1;
    args_min += word.starts_with("[") ? 0 : 1;
    spec = space == std::string_view::npos ? "" : spec.substr(space + 1);
  }
  if (args < args_min || args > args_max) {
    std::fprintf(stderr, "usage: ringmail %s %s\n", command->name, command->args);
    return 2;
  }
  std::string request = "{\"command\":[";
  if (command->server_name != nullptr) {  // send the server's name for the command
    std::vector<std::string> renamed;
    std::string_view name = command->server_name;
    for (size_t space; (space = name.find(' ')) != std::string_view::npos; name.remove_prefix(space + 1)) {
      renamed.emplace_back(name.substr(0, space));
    }
    renamed.emplace_back(name);
    renamed.insert(renamed.end(), words.begin() + static_cast<long>(name_words), words.end());
    words = std::move(renamed);
  }
  for (size_t i = 0; i < words.size(); ++i) {
    request += (i ? "," : "") + rm::json_quote(words[i]);
  }
  request += "]";
  if (command->reads_password) {
    request += ",\"input\":" + rm::json_quote(read_password());
  }
  if (command->reads_message) {
    std::optional<std::string> message = read_message();
    if (!message) {
      return 1;
    }
    request += ",\"input\":" + rm::json_quote(rm::base64_encode(*message));
  }
  request += "}";
  std::string answer;
  if (!call_server(data_dir + "/control.sock", request, answer)) {
    return 1;
  }
  if ((command->server_name != nullptr || command->prints_body) && !json) {
    return print_body(answer);
  }
  if (json) {
    std::printf("%s\n", answer.c_str());
    return answer.find("\"ok\":true") != std::string::npos ? 0 : 1;
  }
  return print_readable(answer);
}
