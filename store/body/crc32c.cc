// CRC-32C: runtime dispatch between the SSE4.2 instruction and a slicing-by-8 table.
#include "store/body/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace rm {
namespace {

constexpr uint32_t kPolynomial = 0x82f63b78;  // reflected Castagnoli

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) {
      c = (c & 1) ? (c >> 1) ^ kPolynomial : c >> 1;
    }
    t[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; ++i) {
    for (size_t s = 1; s < 8; ++s) {
      t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
  return t;
}

constexpr Tables kTables = make_tables();

uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;  // little-endian hosts only (x86-64, aarch64 as configured here)
}

uint32_t portable(uint32_t crc, const unsigned char* p, size_t n) {
  while (n >= 8) {
    const uint64_t v = load64(p) ^ crc;
    crc = kTables[7][v & 0xff] ^ kTables[6][(v >> 8) & 0xff] ^ kTables[5][(v >> 16) & 0xff] ^
          kTables[4][(v >> 24) & 0xff] ^ kTables[3][(v >> 32) & 0xff] ^
          kTables[2][(v >> 40) & 0xff] ^ kTables[1][(v >> 48) & 0xff] ^ kTables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) {
    crc = (crc >> 8) ^ kTables[0][(crc ^ *p++) & 0xff];
  }
  return crc;
}

#if defined(__x86_64__)
// Three independent streams would hide the instruction's 3-cycle latency; one stream already
// runs at about 8 bytes per 3 cycles, far beyond the disk, so the simple loop is kept.
__attribute__((target("sse4.2"))) uint32_t hardware(uint32_t crc, const unsigned char* p,
                                                    size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    c = _mm_crc32_u64(c, load64(p));
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
  }
  return c32;
}

bool detect_hardware() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}
#else
uint32_t hardware(uint32_t crc, const unsigned char* p, size_t n) {
  return portable(crc, p, n);
}
bool detect_hardware() {
  return false;
}
#endif

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool use_hardware() {
  static const bool hardware_present = detect_hardware();
  return hardware_present;
}

}  // namespace

uint32_t crc32c_extend(uint32_t crc, std::string_view bytes) {
  crc = ~crc;
  crc = use_hardware() ? hardware(crc, bytes_of(bytes), bytes.size())
                       : portable(crc, bytes_of(bytes), bytes.size());
  return ~crc;
}

uint32_t crc32c_extend_portable(uint32_t crc, std::string_view bytes) {
  return ~portable(~crc, bytes_of(bytes), bytes.size());
}

bool crc32c_hardware() {
  return use_hardware();
}

}  // namespace rm
