#include "core/crypto/sha256_compress.h"

#include <vector>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace rm {
namespace {

constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

void compress_blocks(uint32_t state[8], const uint8_t* data, size_t blocks) {
  for (; blocks > 0; --blocks, data += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{data[4 * i]} << 24) | (uint32_t{data[4 * i + 1]} << 16) |
             (uint32_t{data[4 * i + 2]} << 8) | uint32_t{data[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int i = 0; i < 64; ++i) {
      uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[i] + w[i];
      uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#if defined(__x86_64__)

bool cpu_has_shani() {
  // Leaf 7 EBX bit 29; __builtin_cpu_supports("sha") is missing from older compilers.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0)
    return false;
  return (ebx & (1u << 29)) != 0 && __builtin_cpu_supports("sse4.1") &&
         __builtin_cpu_supports("ssse3");
}

#define RM_SHANI_TARGET __attribute__((target("sha,sse4.1")))

// Four rounds (two sha256rnds2) on the message words `cur`, plus the part of the message
// schedule that runs alongside: sha256msg2 completes `next`, sha256msg1 starts `prev`.
template <bool kFinishNext, bool kStartPrev>
RM_SHANI_TARGET __attribute__((always_inline)) inline void shani_quad(__m128i& abef, __m128i& cdgh,
                                                                      const __m128i& cur,
                                                                      __m128i& prev, __m128i& next,
                                                                      const uint32_t* k) {
  __m128i msg = _mm_add_epi32(cur, _mm_loadu_si128(reinterpret_cast<const __m128i*>(k)));
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, msg);
  if constexpr (kFinishNext) {
    next = _mm_sha256msg2_epu32(_mm_add_epi32(next, _mm_alignr_epi8(cur, prev, 4)), cur);
  }
  msg = _mm_shuffle_epi32(msg, 0x0E);
  abef = _mm_sha256rnds2_epu32(abef, cdgh, msg);
  if constexpr (kStartPrev)
    prev = _mm_sha256msg1_epu32(prev, cur);
}

#endif  // __x86_64__

}  // namespace

void sha256_compress_portable(uint32_t state[8], const uint8_t* data, size_t blocks) {
  compress_blocks(state, data, blocks);
}

#if defined(__x86_64__)

RM_SHANI_TARGET void sha256_compress_shani(uint32_t state[8], const uint8_t* data, size_t blocks) {
  // The instructions keep the state as ABEF and CDGH (a in the high lane).
  const __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<__m128i*>(state)), 0xB1);
  const __m128i efgh =
      _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<__m128i*>(state + 4)), 0x1B);
  __m128i abef = _mm_alignr_epi8(dcba, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, dcba, 0xF0);
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  for (; blocks > 0; --blocks, data += 64) {
    const __m128i abef_in = abef;
    const __m128i cdgh_in = cdgh;
    const auto* in = reinterpret_cast<const __m128i*>(data);
    __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128(in), byte_swap);
    __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128(in + 1), byte_swap);
    __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128(in + 2), byte_swap);
    __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128(in + 3), byte_swap);
    // Words w[4g..4g+3] are in the register g % 4; w[4g+4..] is finished during group g-1.
    shani_quad<false, false>(abef, cdgh, w0, w3, w1, kRound + 0);
    shani_quad<false, true>(abef, cdgh, w1, w0, w2, kRound + 4);
    shani_quad<false, true>(abef, cdgh, w2, w1, w3, kRound + 8);
    shani_quad<true, true>(abef, cdgh, w3, w2, w0, kRound + 12);
    shani_quad<true, true>(abef, cdgh, w0, w3, w1, kRound + 16);
    shani_quad<true, true>(abef, cdgh, w1, w0, w2, kRound + 20);
    shani_quad<true, true>(abef, cdgh, w2, w1, w3, kRound + 24);
    shani_quad<true, true>(abef, cdgh, w3, w2, w0, kRound + 28);
    shani_quad<true, true>(abef, cdgh, w0, w3, w1, kRound + 32);
    shani_quad<true, true>(abef, cdgh, w1, w0, w2, kRound + 36);
    shani_quad<true, true>(abef, cdgh, w2, w1, w3, kRound + 40);
    shani_quad<true, true>(abef, cdgh, w3, w2, w0, kRound + 44);
    shani_quad<true, true>(abef, cdgh, w0, w3, w1, kRound + 48);
    shani_quad<true, false>(abef, cdgh, w1, w0, w2, kRound + 52);
    shani_quad<true, false>(abef, cdgh, w2, w1, w3, kRound + 56);
    shani_quad<false, false>(abef, cdgh, w3, w2, w0, kRound + 60);
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

#endif  // __x86_64__

std::span<const Sha256Implementation> sha256_implementations() {
  static const std::vector<Sha256Implementation> kSupported = [] {
    std::vector<Sha256Implementation> list;
#if defined(__x86_64__)
    if (cpu_has_shani())
      list.push_back({"sha-ni", sha256_compress_shani});
#endif
    list.push_back({"portable", sha256_compress_portable});
    return list;
  }();
  return kSupported;
}

void sha256_compress(uint32_t state[8], const uint8_t* data, size_t blocks) {
  static const Sha256CompressFn kChosen = sha256_implementations().front().compress;
  kChosen(state, data, blocks);
}

std::string_view sha256_implementation() {
  return sha256_implementations().front().name;
}

}  // namespace rm
