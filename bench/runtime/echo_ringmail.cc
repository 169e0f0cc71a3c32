// rm_echo_ringmail: the LineEcho service on the ringmail runtime, for the runtime benchmark.
//
//   rm_echo_ringmail PORT [--shards N]
//
// One TCP listener on 127.0.0.1:PORT (0: the kernel picks; the port is printed either way as
// "listening port=P" on stdout, which is how run.sh finds it). --shards defaults to 0, which
// the runtime reads as one shard per CPU we may run on. SIGTERM/SIGINT stop it through the
// runtime's own signal handling, so the benchmark also exercises the shutdown path.
// SECURITY: loopback only; the address is not configurable on purpose.
#include <cstdio>
#include <string>
#include <string_view>

#include "bench/runtime/args.h"
#include "core/base/log.h"
#include "core/config/options.h"
#include "core/runtime/runtime.h"
#include "core/services/line_echo.h"

namespace {

constexpr const char* kProgram = "rm_echo_ringmail";


// The benchmark measures the runtime, not its defaults for a mail server: no idle deadline
// can fire during a run, and a stopped server must not keep run.sh waiting for 10 s.
rm::Options bench_options(const rm::bench::ServerArgs& args) {
  rm::Options options;
  options.runtime.shards = args.shards;
  options.runtime.shutdown_drain_ms = 1000;
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const rm::bench::ServerArgs args = rm::bench::parse_server_args(kProgram, argc, argv);
  // Warnings only: per-connection info lines would be part of what we measure.
  (void)rm::log_init(rm::LogLevel::kWarn, "");
  rm::Runtime runtime(bench_options(args));
  rm::LineEchoOptions echo;
  echo.idle_ms = 24u * 3600u * 1000u;  // a day: never during a benchmark
  runtime.add_listener(
      rm::ListenerSpec{"echo", "127.0.0.1", args.port, "", rm::LineEcho::factory(echo), ""});
  if (rm::Status s = runtime.start(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, s.to_string().c_str());
    return 1;
  }
  std::printf("listening port=%u shards=%d\n", unsigned{runtime.bound_port("echo")},
              runtime.shard_count());
  std::fflush(stdout);
  if (rm::Status s = runtime.wait(); !s.ok()) {
    std::fprintf(stderr, "%s: %s\n", kProgram, s.to_string().c_str());
    return 1;
  }
  return 0;
}
