// The SHA-256 block function: folds `blocks` 64-byte blocks into `state`.
// sha256_compress() dispatches, once per process, to the fastest implementation the CPU
// runs; the others stay callable so tests and benchmarks can check they agree.
//
// Implementations: "sha-ni" (x86 SHA extensions, with SSE4.1) where the CPU has them, else
// "portable" (plain C++). There is no AVX2 version: SHA-256 of one stream is a chain of
// dependent rounds, AVX2 would only speed up the message schedule (a small share of the
// work), and multi-buffer hashing does not fit one incremental stream. (A BMI2 build of the
// portable code, for its rotates, measured no faster here.)
// Thread-safety: all functions are safe to call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rm {

using Sha256CompressFn = void (*)(uint32_t state[8], const uint8_t* data, size_t blocks);

void sha256_compress_portable(uint32_t state[8], const uint8_t* data, size_t blocks);
#if defined(__x86_64__)
// REQUIRES: the CPU has SHA-NI and SSE4.1 (see sha256_implementations()).
void sha256_compress_shani(uint32_t state[8], const uint8_t* data, size_t blocks);
#endif

struct Sha256Implementation {
  std::string_view name;
  Sha256CompressFn compress;
};
// The implementations this CPU runs, fastest first; the last is always "portable".
std::span<const Sha256Implementation> sha256_implementations();

void sha256_compress(uint32_t state[8], const uint8_t* data, size_t blocks);
// The name of the implementation sha256_compress() uses ("sha-ni", "portable", ...).
std::string_view sha256_implementation();

}  // namespace rm
