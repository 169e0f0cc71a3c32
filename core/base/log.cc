#include "core/base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>

namespace rm {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_fd{STDERR_FILENO};
thread_local int t_shard = -1;

bool is_plain_token_byte(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

void append_timestamp(std::string& out) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts;
  gmtime_r(&ts.tv_sec, &parts);
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                              parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
                              parts.tm_min, parts.tm_sec, ts.tv_nsec / 1000000);
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view name) {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return Status::InvalidArgument("unknown log level '" + std::string(name) +
                                 "' (expected debug, info, warn or error)");
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

Status log_init(LogLevel level, const std::string& file_path) {
  g_level.store(static_cast<int>(level));
  if (file_path.empty()) {
    g_fd.store(STDERR_FILENO);
    return Status::Ok();
  }
  const int fd = ::open(file_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::FromErrno("open log file " + file_path, errno);
  }
  const int old = g_fd.exchange(fd);
  if (old != STDERR_FILENO) {
    ::close(old);
  }
  return Status::Ok();
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void log_set_thread_shard(int shard) { t_shard = shard; }

void log_append_value(std::string& out, std::string_view value) {
  bool plain = !value.empty();
  for (unsigned char c : value) {
    if (!is_plain_token_byte(c)) {
      plain = false;
      break;
    }
  }
  if (plain) {
    out.append(value);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c == 0x7f) {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

LogLine::LogLine(LogLevel level, std::string_view event) {
  line_.reserve(160);
  line_.append("ts=");
  append_timestamp(line_);
  line_.append(" level=");
  line_.append(log_level_name(level));
  line_.append(" shard=");
  if (t_shard < 0) {
    line_.append("main");
  } else {
    line_.append(std::to_string(t_shard));
  }
  line_.append(" event=");
  log_append_value(line_, event);
}

LogLine::~LogLine() {
  line_.push_back('\n');
  const int fd = g_fd.load(std::memory_order_relaxed);
  size_t off = 0;
  while (off < line_.size()) {
    const ssize_t n = ::write(fd, line_.data() + off, line_.size() - off);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;  // nowhere left to report a failing log sink
    }
    off += static_cast<size_t>(n);
  }
}

LogLine& LogLine::kv(std::string_view key, std::string_view value) {
  line_.push_back(' ');
  line_.append(key);
  line_.push_back('=');
  log_append_value(line_, value);
  return *this;
}

LogLine& LogLine::kv(std::string_view key, int64_t value) {
  line_.push_back(' ');
  line_.append(key);
  line_.push_back('=');
  line_.append(std::to_string(value));
  return *this;
}

LogLine& LogLine::kv(std::string_view key, uint64_t value) {
  line_.push_back(' ');
  line_.append(key);
  line_.push_back('=');
  line_.append(std::to_string(value));
  return *this;
}

LogLine& LogLine::kv(std::string_view key, const Status& status) {
  return kv(key, status.to_string());
}

}  // namespace rm
