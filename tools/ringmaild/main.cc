// ringmaild: the ringmail server.
//
// SECURITY: runs as the operator's user; listens on the configured addresses (127.0.0.1
// only by default); trusts its config file and its data directory, nothing its clients say.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "core/base/log.h"
#include "core/config/config.h"
#include "core/runtime/runtime.h"
#include "tools/ringmaild/server.h"

namespace {

constexpr const char* kUsage =
    "usage: ringmaild [--data DIR] [--config FILE]\n"
    "       ringmaild --check-config FILE\n"
    "       ringmaild [--config FILE] --print-config\n"
    "\n"
    "  --data DIR           directory for everything the server writes (default ./var)\n"
    "  --config FILE        JSON configuration; without it the embedded defaults apply\n"
    "  --check-config FILE  validate FILE, print the first error, exit 0 if valid, 2 if not\n"
    "  --print-config       print the effective configuration as JSON and exit\n"
    "  --version            print the version and exit\n"
    "  --help               this text\n";

struct Args {
  std::string data_dir = "var";
  std::string config_file;
  std::string check_file;
  bool print_config = false;
};

// 0: run; 1: exit 0 (help/version printed); -1: usage error (printed).
int parse_args(int argc, char** argv, Args& args) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ringmaild: %s needs a value\n%s", argv[i], kUsage);
        return false;
      }
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 1;
    } else if (arg == "--version") {
      std::printf("ringmaild %s\n", rm::kRingmailVersion);
      return 1;
    } else if (arg == "--data") {
      if (!value(args.data_dir)) return -1;
    } else if (arg == "--config") {
      if (!value(args.config_file)) return -1;
    } else if (arg == "--check-config") {
      if (!value(args.check_file)) return -1;
    } else if (arg == "--print-config") {
      args.print_config = true;
    } else {
      std::fprintf(stderr, "ringmaild: unknown option '%s'\n%s", argv[i], kUsage);
      return -1;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  rm::block_shutdown_signals();
  Args args;
  const int parsed = parse_args(argc, argv, args);
  if (parsed != 0) {
    return parsed > 0 ? 0 : 2;
  }
  if (!args.check_file.empty()) {
    rm::Result<rm::Options> checked = rm::load_config_file(args.check_file);
    if (!checked.ok()) {
      std::fprintf(stderr, "ringmaild: %s\n", std::string(checked.status().message()).c_str());
      return 2;
    }
    std::printf("%s: configuration is valid\n", args.check_file.c_str());
    return 0;
  }
  rm::Result<rm::Options> options =
      args.config_file.empty() ? rm::Result<rm::Options>(rm::Options{})
                               : rm::load_config_file(args.config_file);
  if (!options.ok()) {
    std::fprintf(stderr, "ringmaild: %s\n", std::string(options.status().message()).c_str());
    return 2;
  }
  if (args.print_config) {
    std::fputs(rm::print_config(*options).c_str(), stdout);
    return 0;
  }
  rm::Result<rm::LogLevel> level = rm::parse_log_level(options->log.level);
  if (rm::Status s = rm::log_init(level.ok() ? *level : rm::LogLevel::kInfo, options->log.file);
      !s.ok()) {
    std::fprintf(stderr, "ringmaild: %s\n", s.to_string().c_str());
    return 1;
  }
  rm::Result<rm::ServerPaths> paths = rm::prepare_data_dir(args.data_dir);
  if (!paths.ok()) {
    RM_LOG(kError, "start_failed").kv("error", paths.status());
    return 1;
  }
  rm::Status status = rm::run_server(*options, *paths);
  if (!status.ok()) {
    RM_LOG(kError, "start_failed").kv("error", status);
    return 1;
  }
  return 0;
}
