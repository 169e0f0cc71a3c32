// rm_dkim_hash_bench: DKIM body hashing against OpenSSL's SHA-256 on the same buffers.
//
//   rm_dkim_hash_bench [--benchmark_filter=REGEX] [--benchmark_repetitions=3] ...
//
// Buffers of 4 KiB, 100 KiB and 1 MiB of mail-like text (CRLF lines of words, quoted and
// indented lines, paragraphs, some double spaces, tabs and trailing blanks), hashed by:
// - OpenSsl:        libcrypto's EVP_Digest(SHA-256): the baseline (raw hash, no canonicalization)
// - Sha256:         our Sha256 with the block function chosen for this CPU (SHA-NI here)
// - Sha256Portable: our portable block function alone, on the same bytes
// - DkimRelaxed / DkimSimple: DkimBodyHasher, canonicalization + hash (the best scanner
//   for this CPU: AVX-512 block mode where VBMI2 is there)
// - DkimRelaxedAvx2 / DkimRelaxedSse2 / DkimRelaxedPortableScan: relaxed with the AVX2 block
//   mode, the SSE2 scan, and no SIMD (skipped when the CPU lacks the instructions)
// After the table it prints, per size, DkimRelaxed / OpenSsl in bytes per second (the
// target is at least 0.85; with repetitions, the ratio of the medians).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/crypto/sha256.h"
#include "core/crypto/sha256_compress.h"
#include "proto/dkim/body_canon.h"

namespace {

constexpr int64_t kSizes[] = {4 << 10, 100 << 10, 1 << 20};

// Deterministic mail-like text of exactly `size` bytes.
std::string mail_text(size_t size) {
  std::mt19937 rng(5322);
  std::uniform_int_distribution<int> percent(0, 99);
  std::uniform_int_distribution<int> word_len(1, 10);
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string text;
  std::string line;
  while (text.size() < size) {
    line.clear();
    const int kind = percent(rng);
    if (kind < 8) {
      text += "\r\n";  // paragraph break
      continue;
    }
    if (kind < 20)
      line += "> ";
    if (kind >= 20 && kind < 25)
      line += "\t";
    if (kind >= 25 && kind < 28)
      line += "    ";
    const size_t width = 60 + static_cast<size_t>(percent(rng) % 17);
    while (line.size() < width) {
      for (int i = word_len(rng); i > 0; --i)
        line += static_cast<char>(letter(rng));
      const int gap = percent(rng);
      line += gap < 3 ? "  " : gap < 4 ? " \t" : " ";
    }
    if (percent(rng) >= 10) {
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
        line.pop_back();
    }
    text += line;
    text += "\r\n";
  }
  text.resize(size);
  return text;
}

const std::string& buffer(int64_t size) {
  static std::map<int64_t, std::string> buffers;
  auto it = buffers.find(size);
  if (it == buffers.end())
    it = buffers.emplace(size, mail_text(static_cast<size_t>(size))).first;
  return it->second;
}

void set_bytes(benchmark::State& state, int64_t size) {
  state.SetBytesProcessed(state.iterations() * size);
}

void BM_OpenSsl(benchmark::State& state) {
  const std::string& data = buffer(state.range(0));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  for (auto _ : state) {
    EVP_Digest(data.data(), data.size(), digest, &digest_len, EVP_sha256(), nullptr);
    benchmark::DoNotOptimize(digest);
  }
  set_bytes(state, state.range(0));
}

void BM_Sha256(benchmark::State& state) {
  const std::string& data = buffer(state.range(0));
  for (auto _ : state)
    benchmark::DoNotOptimize(rm::Sha256::hash(data));
  state.SetLabel(std::string(rm::sha256_implementation()));
  set_bytes(state, state.range(0));
}

// The block function alone (the sizes are whole blocks; padding is one more block).
void BM_Sha256Portable(benchmark::State& state) {
  const std::string& data = buffer(state.range(0));
  for (auto _ : state) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    rm::sha256_compress_portable(h, reinterpret_cast<const uint8_t*>(data.data()),
                                 data.size() / rm::Sha256::kBlockBytes);
    benchmark::DoNotOptimize(h);
  }
  set_bytes(state, state.range(0));
}

std::string scan_name(rm::DkimBodyScan scan) {
  switch (scan) {
    case rm::DkimBodyScan::kBest:
      return std::string(rm::DkimBodyHasher::best_scan_name());
    case rm::DkimBodyScan::kPortable:
      return "portable";
    case rm::DkimBodyScan::kSse2:
      return "sse2";
    case rm::DkimBodyScan::kAvx2:
      return "avx2";
    case rm::DkimBodyScan::kAvx512:
      return "avx512";
  }
  return "?";
}

void dkim(benchmark::State& state, rm::DkimCanon canon, rm::DkimBodyScan scan) {
  if (!rm::DkimBodyHasher::scan_supported(scan)) {
    state.SkipWithError("this CPU lacks the instructions");
    return;
  }
  const std::string& data = buffer(state.range(0));
  for (auto _ : state) {
    rm::DkimBodyHasher hasher(canon, UINT64_MAX, scan);
    hasher.update(data);
    benchmark::DoNotOptimize(hasher.finish());
  }
  state.SetLabel(scan_name(scan));
  set_bytes(state, state.range(0));
}

void BM_DkimRelaxed(benchmark::State& state) {
  dkim(state, rm::DkimCanon::kRelaxed, rm::DkimBodyScan::kBest);
}
void BM_DkimSimple(benchmark::State& state) {
  dkim(state, rm::DkimCanon::kSimple, rm::DkimBodyScan::kBest);
}
void BM_DkimRelaxedAvx2(benchmark::State& state) {
  dkim(state, rm::DkimCanon::kRelaxed, rm::DkimBodyScan::kAvx2);
}
void BM_DkimRelaxedSse2(benchmark::State& state) {
  dkim(state, rm::DkimCanon::kRelaxed, rm::DkimBodyScan::kSse2);
}
void BM_DkimRelaxedPortableScan(benchmark::State& state) {
  dkim(state, rm::DkimCanon::kRelaxed, rm::DkimBodyScan::kPortable);
}

void sizes(benchmark::internal::Benchmark* b) {
  for (int64_t size : kSizes)
    b->Arg(size);
}
BENCHMARK(BM_OpenSsl)->Apply(sizes);
BENCHMARK(BM_Sha256)->Apply(sizes);
BENCHMARK(BM_Sha256Portable)->Apply(sizes);
BENCHMARK(BM_DkimRelaxed)->Apply(sizes);
BENCHMARK(BM_DkimSimple)->Apply(sizes);
BENCHMARK(BM_DkimRelaxedAvx2)->Apply(sizes);
BENCHMARK(BM_DkimRelaxedSse2)->Apply(sizes);
BENCHMARK(BM_DkimRelaxedPortableScan)->Apply(sizes);

// The console table, plus the bytes per second of each run kept for the ratio.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Colours only on a terminal (a custom reporter does not see --benchmark_color).
  RatioReporter() : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred || run.run_type != Run::RT_Iteration) {
        continue;
      }
      auto it = run.counters.find("bytes_per_second");
      if (it != run.counters.end()) {
        bytes_per_second_[run.benchmark_name()].push_back(it->second);
      }
    }
  }

  void print_ratios() const {
    for (int64_t size : kSizes) {
      const std::string arg = "/" + std::to_string(size);
      const auto ours = bytes_per_second_.find("BM_DkimRelaxed" + arg);
      const auto base = bytes_per_second_.find("BM_OpenSsl" + arg);
      if (ours == bytes_per_second_.end() || base == bytes_per_second_.end())
        continue;
      std::printf("relaxed canon+hash / OpenSSL SHA-256 at %7lld bytes: %.3f\n",
                  static_cast<long long>(size), median(ours->second) / median(base->second));
    }
  }

 private:
  // Of every repetition (--benchmark_repetitions): the ratio uses the medians.
  static double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
  }

  std::map<std::string, std::vector<double>> bytes_per_second_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.print_ratios();
  benchmark::Shutdown();
  return 0;
}
