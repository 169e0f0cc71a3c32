// Structured logging: one line per event, `key=value`, to stderr or a file.
//
//   RM_LOG(kInfo, "accept").kv("conn", id).kv("peer", peer);
//
// Every line carries ts, level, shard (the calling thread's) and event; callers add the
// session and queue ids that concern the event. Values that are not plain tokens are quoted
// and their control bytes escaped, so client-supplied text cannot forge a line.
// Thread-safety: any thread may log; each line is written with one write(2), so lines from
// different threads never interleave.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

Result<LogLevel> parse_log_level(std::string_view name);
std::string_view log_level_name(LogLevel level);

// Sets the threshold and the destination ("" = stderr; otherwise a file opened for append).
// Call before starting threads.
Status log_init(LogLevel level, const std::string& file_path);
bool log_enabled(LogLevel level);

// Names the calling thread in its log lines (`shard=N`); -1 means "main".
void log_set_thread_shard(int shard);

// Appends `value` to `out` as a log value: bare when it is a plain token, quoted otherwise.
void log_append_value(std::string& out, std::string_view value);

class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& kv(std::string_view key, std::string_view value);
  LogLine& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
  LogLine& kv(std::string_view key, int64_t value);
  LogLine& kv(std::string_view key, uint64_t value);
  LogLine& kv(std::string_view key, int value) { return kv(key, int64_t{value}); }
  LogLine& kv(std::string_view key, unsigned value) { return kv(key, uint64_t{value}); }
  LogLine& kv(std::string_view key, long long value) { return kv(key, int64_t(value)); }
  LogLine& kv(std::string_view key, unsigned long long value) { return kv(key, uint64_t(value)); }
  LogLine& kv(std::string_view key, const Status& status);

 private:
  std::string line_;
};

}  // namespace rm

#define RM_LOG(level, event)                                \
  if (!::rm::log_enabled(::rm::LogLevel::level)) {          \
  } else                                                    \
    ::rm::LogLine(::rm::LogLevel::level, (event))
