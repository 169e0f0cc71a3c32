// The SHA-256 block function: folds `blocks` 64-byte blocks into `state`.
// sha256_compress() dispatches, once per process, to the fastest implementation the CPU
// runs; the others stay callable so tests and benchmarks can check they agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rm {

using Sha256CompressFn = void (*)(uint32_t state[8], const uint8_t* data, size_t blocks);

void sha256_compress_portable(uint32_t state[8], const uint8_t* data, size_t blocks);

void sha256_compress(uint32_t state[8], const uint8_t* data, size_t blocks);
// The name of the implementation sha256_compress() uses ("portable", ...).
std::string_view sha256_implementation();

}  // namespace rm
