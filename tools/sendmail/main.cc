// sendmail: the sendmail-compatible command for local programs (cron, PHP's mail(), scripts).
// It reads a message on stdin and submits it to the running ringmaild over the local
// submission socket (DATA/submit.sock, SMTP), so it needs no privileges and no queue of its
// own: the server queues the message before this command reports success.
//
//   sendmail [-t] [-i|-oi] [-f sender] [-F "Full Name"] [--] [recipient ...]
//   sendmail -bs        an SMTP session on stdin/stdout, relayed to the server
//
// -t takes recipients from the To, Cc and Bcc headers (and drops Bcc), adding any given on
// the command line, as Postfix's sendmail does. Without -i a line holding a single "." ends
// the message. Missing From, Date and Message-ID headers are added. Other options that
// sendmail accepts (-oXXX, -v, -B, -N, -R, -V, -bm, -U, -em...) are accepted and ignored.
// The socket: $RINGMAIL_SUBMIT_SOCKET, else DIR/submit.sock with -C DIR, else
// /var/lib/ringmail/submit.sock.
// Exit codes (sysexits): 0 queued; 64 usage; 65 message refused; 67 recipient refused;
// 69 server unreachable; 74 I/O error; 75 temporary failure, try later.
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/date.h"
#include "proto/smtp/client/client_session.h"

namespace {

constexpr int kExUsage = 64;
constexpr int kExDataErr = 65;
constexpr int kExNoUser = 67;
constexpr int kExUnavailable = 69;
constexpr int kExIoErr = 74;
constexpr int kExTempFail = 75;
constexpr size_t kMessageBytesMax = size_t{1} << 30;

struct Args {
  bool extract = false;               // -t
  bool dot_ends = true;               // cleared by -i / -oi
  bool smtp_mode = false;             // -bs
  std::optional<std::string> sender;  // -f ("" for <>)
  std::string full_name;              // -F
  std::string config_dir;             // -C
  std::vector<std::string> recipients;
};

int usage(const char* why) {
  std::fprintf(stderr,
               "sendmail: %s\nusage: sendmail [-t] [-i] [-f sender] [-F name] [recipient ...]\n"
               "       sendmail -bs\n",
               why);
  return kExUsage;
}

// The value of an option given as "-fX" or "-f X".
std::optional<std::string> option_value(int argc, char** argv, int& i) {
  if (argv[i][2] != '\0') {
    return std::string(argv[i] + 2);
  }
  if (i + 1 >= argc) {
    return std::nullopt;
  }
  return std::string(argv[++i]);
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      break;
    }
    const char flag = arg[1];
    if (arg == "-t") {
      a.extract = true;
    } else if (arg == "-i" || arg == "-oi") {
      a.dot_ends = false;
    } else if (arg == "-bs") {
      a.smtp_mode = true;
    } else if (arg == "-bm" || arg.starts_with("-o") || arg == "-v" || arg == "-U" ||
               arg.starts_with("-e")) {
      // accepted for compatibility
    } else if (flag == 'f' || flag == 'r' || flag == 'F' || flag == 'C' || flag == 'B' ||
               flag == 'N' || flag == 'R' || flag == 'V' || flag == 'X') {
      std::optional<std::string> value = option_value(argc, argv, i);
      if (!value) {
        return std::nullopt;
      }
      if (flag == 'f' || flag == 'r') {
        a.sender = *value == "<>" ? "" : *value;
      } else if (flag == 'F') {
        a.full_name = *value;
      } else if (flag == 'C') {
        a.config_dir = *value;
      }
    } else {
      std::fprintf(stderr, "sendmail: unsupported option %s\n", argv[i]);
      return std::nullopt;
    }
  }
  for (; i < argc; ++i) {
    a.recipients.emplace_back(argv[i]);
  }
  return a;
}

std::string socket_path(const Args& a) {
  if (const char* env = std::getenv("RINGMAIL_SUBMIT_SOCKET"); env != nullptr && *env != '\0') {
    return env;
  }
  if (!a.config_dir.empty()) {
    return a.config_dir + "/submit.sock";
  }
  return "/var/lib/ringmail/submit.sock";
}

int connect_socket(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return -1;
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// -bs: bytes both ways until either side closes.
int relay_smtp(int fd) {
  pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {fd, POLLIN, 0}};
  char buf[65536];
  for (;;) {
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      return kExIoErr;
    }
    for (int k = 0; k < 2; ++k) {
      if ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const ssize_t n = ::read(fds[k].fd, buf, sizeof buf);
      if (n <= 0) {
        if (k == 0) {
          ::shutdown(fd, SHUT_WR);
          fds[0].fd = -1;
          continue;
        }
        return 0;
      }
      if (!write_all(k == 0 ? fd : STDOUT_FILENO, std::string_view(buf, static_cast<size_t>(n)))) {
        return kExIoErr;
      }
    }
  }
}

// stdin, with line endings made CRLF; without -i, a line holding only "." ends it.
std::optional<std::string> read_message(bool dot_ends) {
  std::string out;
  std::string line;
  int c;
  while ((c = std::getchar()) != EOF) {
    if (c != '\n') {
      line.push_back(static_cast<char>(c));
      if (line.size() > kMessageBytesMax) {
        return std::nullopt;
      }
      continue;
    }
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (dot_ends && line == ".") {
      return out;
    }
    out += line;
    out += "\r\n";
    line.clear();
    if (out.size() > kMessageBytesMax) {
      return std::nullopt;
    }
  }
  if (!line.empty()) {
    out += line + "\r\n";
  }
  return out;
}

// The header section's fields, unfolded: (name lower case, value), and where the body starts.
struct Headers {
  std::vector<std::pair<std::string, std::string>> fields;
  size_t end = 0;  // offset of the body (after the blank line), or 0 when there is none
};

Headers parse_headers(const std::string& message) {
  Headers h;
  size_t pos = 0;
  while (pos < message.size()) {
    const size_t eol = message.find("\r\n", pos);
    if (eol == std::string::npos || eol == pos) {
      h.end = eol == pos ? pos + 2 : 0;
      break;
    }
    const std::string line = message.substr(pos, eol - pos);
    if ((line[0] == ' ' || line[0] == '\t') && !h.fields.empty()) {
      h.fields.back().second += " " + line;
    } else if (const size_t colon = line.find(':'); colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& ch : name)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      h.fields.emplace_back(name, line.substr(colon + 1));
    } else {
      break;  // not a header: the message has no header section
    }
    pos = eol + 2;
  }
  return h;
}

bool has_field(const Headers& h, std::string_view name) {
  for (const auto& [n, v] : h.fields) {
    if (n == name)
      return true;
  }
  return false;
}

// Addresses in an address-list header value: "<a@b>" parts, else bare comma-separated ones.
void extract_addresses(const std::string& value, std::vector<std::string>& out) {
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos)
      end = value.size();
    std::string part = value.substr(start, end - start);
    const size_t lt = part.find('<');
    const size_t gt = part.find('>', lt == std::string::npos ? 0 : lt);
    if (lt != std::string::npos && gt != std::string::npos) {
      part = part.substr(lt + 1, gt - lt - 1);
    } else if (const size_t paren = part.find('('); paren != std::string::npos) {
      part = part.substr(0, paren);
    }
    const size_t first = part.find_first_not_of(" \t");
    const size_t last = part.find_last_not_of(" \t");
    if (first != std::string::npos && part.find('@') != std::string::npos) {
      out.push_back(part.substr(first, last - first + 1));
    }
    start = end + 1;
  }
}

// Removes Bcc fields (with their continuation lines) from the header section.
std::string without_bcc(const std::string& message, size_t header_end) {
  std::string out;
  size_t pos = 0;
  bool skipping = false;
  while (pos < header_end) {
    const size_t eol = message.find("\r\n", pos) + 2;
    const std::string_view line(message.data() + pos, eol - pos);
    const bool continuation = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    if (!continuation) {
      skipping = line.size() >= 4 && ::strncasecmp(line.data(), "bcc:", 4) == 0;
    }
    if (!skipping) {
      out.append(line);
    }
    pos = eol;
  }
  out.append(message, header_end, std::string::npos);
  return out;
}

std::string host_name() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name[0] != '\0' ? name : "localhost";
}

std::string login_name() {
  const passwd* pw = ::getpwuid(::getuid());
  return pw != nullptr ? pw->pw_name : "nobody";
}

// Headers a local program often leaves out.
std::string complete_headers(const std::string& message, const Headers& h, const Args& a,
                             const std::string& sender) {
  std::string added;
  if (!has_field(h, "from")) {
    added += "From: " + (a.full_name.empty() ? "" : "\"" + a.full_name + "\" ") + "<" +
             (sender.empty() ? "MAILER-DAEMON@" + host_name() : sender) + ">\r\n";
  }
  if (!has_field(h, "date")) {
    added += "Date: " + rm::rfc5322_date(std::time(nullptr)) + "\r\n";
  }
  if (!has_field(h, "message-id")) {
    char id[96];
    std::snprintf(id, sizeof id, "<%lld.%d.sendmail@%s>",
                  static_cast<long long>(std::time(nullptr)), static_cast<int>(::getpid()),
                  host_name().c_str());
    added += "Message-ID: " + std::string(id) + "\r\n";
  }
  if (h.end == 0) {
    added += "\r\n";  // no header section: the whole input is the body
  }
  return added + message;
}

bool has_8bit(std::string_view bytes) {
  for (unsigned char ch : bytes) {
    if (ch >= 0x80)
      return true;
  }
  return false;
}

// One SMTP transaction over `fd` with the pure client session; returns the exit code.
int submit(int fd, const std::string& sender, const std::vector<std::string>& recipients,
           const std::string& message) {
  rm::smtp::ClientConfig config;
  config.helo_name = "localhost";
  config.tls = rm::smtp::TlsPolicy::kNone;
  rm::smtp::ClientSession session(config);
  rm::smtp::OutboundMessage m;
  m.sender = sender;
  for (const std::string& r : recipients) {
    m.recipients.push_back({r, rm::smtp::kNotifyUnset, ""});
  }
  m.size_bytes = message.size();
  m.body = has_8bit(message) ? rm::smtp::Body::k8BitMime : rm::smtp::Body::k7Bit;
  bool sent = false;
  bool queued = false;
  int refused = 0;
  int result = -1;
  char buf[65536];
  while (!session.done()) {
    for (const rm::smtp::ClientEvent& ev : session.take_events()) {
      const std::string reply = ev.reply.summary();
      switch (ev.type) {
        case rm::smtp::ClientEventType::kReady:
          if (!sent && session.ready()) {
            sent = true;
            if (!session.send_message(m).ok()) {
              std::fprintf(stderr, "sendmail: bad sender or recipient address\n");
              result = kExUsage;
              session.quit();
            }
          } else if (session.ready()) {
            session.quit();
          }
          break;
        case rm::smtp::ClientEventType::kNeedBody:
          if (session.wants_body())
            session.body_end(message);
          break;
        case rm::smtp::ClientEventType::kRecipient:
          if (ev.outcome != rm::smtp::Outcome::kAccepted) {
            std::fprintf(stderr, "sendmail: <%s>: %s\n", recipients[ev.recipient].c_str(),
                         reply.c_str());
            refused = std::max(
                refused, ev.outcome == rm::smtp::Outcome::kPermanent ? kExNoUser : kExTempFail);
          }
          break;
        case rm::smtp::ClientEventType::kMessage:
          queued = ev.outcome == rm::smtp::Outcome::kAccepted;
          if (!queued && refused == 0) {
            std::fprintf(stderr, "sendmail: message refused: %s\n", reply.c_str());
            result = ev.outcome == rm::smtp::Outcome::kPermanent ? kExDataErr : kExTempFail;
          }
          break;
        case rm::smtp::ClientEventType::kFailed:
          if (!queued && result < 0) {
            std::fprintf(stderr, "sendmail: %s\n", reply.c_str());
            result = kExTempFail;
          }
          break;
        case rm::smtp::ClientEventType::kStartTls:
        case rm::smtp::ClientEventType::kClosed:
          break;
      }
    }
    if (!write_all(fd, session.output())) {
      session.peer_closed();
      continue;
    }
    session.output().clear();
    if (session.done()) {
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 600000) <= 0) {
      session.timed_out();
      continue;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      session.peer_closed();
    } else {
      session.feed(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  if (result >= 0) {
    return result;
  }
  return refused != 0 ? refused : (queued ? 0 : kExTempFail);
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Args> args = parse_args(argc, argv);
  if (!args) {
    return usage("bad arguments");
  }
  const std::string path = socket_path(*args);
  const int fd = connect_socket(path);
  if (fd < 0) {
    std::fprintf(stderr, "sendmail: cannot reach the mail server at %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return kExUnavailable;
  }
  if (args->smtp_mode) {
    return relay_smtp(fd);
  }
  std::optional<std::string> message = read_message(args->dot_ends);
  if (!message) {
    std::fprintf(stderr, "sendmail: message too large\n");
    return kExDataErr;
  }
  const Headers headers = parse_headers(*message);
  std::vector<std::string> recipients = args->recipients;
  if (args->extract) {
    for (const auto& [name, value] : headers.fields) {
      if (name == "to" || name == "cc" || name == "bcc") {
        extract_addresses(value, recipients);
      }
    }
    if (headers.end != 0) {
      *message = without_bcc(*message, headers.end);
    }
  }
  if (recipients.empty()) {
    return usage("no recipients");
  }
  const std::string sender = args->sender ? *args->sender : login_name() + "@" + host_name();
  const std::string full = complete_headers(*message, parse_headers(*message), *args, sender);
  const int code = submit(fd, sender, recipients, full);
  ::close(fd);
  return code;
}
