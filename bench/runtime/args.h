// Command-line helpers shared by the runtime benchmark programs (header-only: each program
// is one translation unit, and they must not depend on anything under core/ for parsing).
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace rm::bench {

// Parses a whole decimal argument in [min, max]; exits with a message otherwise, because a
// benchmark that silently runs with a wrong parameter produces a misleading number.
inline uint64_t parse_number(const char* program, std::string_view flag, std::string_view text,
                             uint64_t min, uint64_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    std::fprintf(stderr, "%s: %.*s wants a number in [%llu, %llu], got '%.*s'\n", program,
                 static_cast<int>(flag.size()), flag.data(), static_cast<unsigned long long>(min),
                 static_cast<unsigned long long>(max), static_cast<int>(text.size()), text.data());
    std::exit(2);
  }
  return value;
}

// The value after argv[*i] (advancing *i), or exit with a message when it is missing.
inline std::string_view flag_value(const char* program, int argc, char** argv, int* i) {
  if (*i + 1 >= argc) {
    std::fprintf(stderr, "%s: %s needs a value\n", program, argv[*i]);
    std::exit(2);
  }
  ++*i;
  return argv[*i];
}

// The two echo servers' command line: PORT [--shards N].
struct ServerArgs {
  uint16_t port = 0;
  uint32_t shards = 0;  // 0 = every CPU
};

inline ServerArgs parse_server_args(const char* program, int argc, char** argv) {
  ServerArgs args;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--shards") {
      const std::string_view v = flag_value(program, argc, argv, &i);
      args.shards = static_cast<uint32_t>(parse_number(program, arg, v, 0, 1024));
    } else if (!have_port && !arg.starts_with("-")) {
      args.port = static_cast<uint16_t>(parse_number(program, "PORT", arg, 0, 65535));
      have_port = true;
    } else {
      have_port = false;
      break;
    }
  }
  if (!have_port) {
    std::fprintf(stderr, "usage: %s PORT [--shards N]\n", program);
    std::exit(2);
  }
  return args;
}

}  // namespace rm::bench
