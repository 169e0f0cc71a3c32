// CRC-32C (Castagnoli), the checksum kept with every stored body extent.
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at run time), else a
// portable slicing-by-8 table. Both give the same value; the tests compare them.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace rm {

// Extends `crc` (0 for a fresh checksum) over `bytes`.
uint32_t crc32c_extend(uint32_t crc, std::string_view bytes);

inline uint32_t crc32c(std::string_view bytes) {
  return crc32c_extend(0, bytes);
}

// The portable implementation, whatever the CPU (for tests and benchmarks).
uint32_t crc32c_extend_portable(uint32_t crc, std::string_view bytes);

// Whether crc32c_extend uses the SSE4.2 instruction on this CPU.
bool crc32c_hardware();

}  // namespace rm
