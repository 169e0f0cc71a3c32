#include "proto/mime/scan.h"

#include <cstring>

#include "core/base/assert.h"

#if defined(__x86_64__) || defined(__i386__)
#define RM_MIME_X86 1
#include <immintrin.h>
#endif

namespace rm::mime {
namespace {

// Portable versions; the SIMD ones also use them for their tails.

size_t find_lf_portable(const char* data, size_t size) {
  const void* hit = std::memchr(data, '\n', size);
  return hit == nullptr ? size : static_cast<size_t>(static_cast<const char*>(hit) - data);
}

size_t find_dash_line_from(const char* data, size_t size, size_t i) {
  for (; i + 2 < size; ++i) {
    if (data[i] == '\n' && data[i + 1] == '-' && data[i + 2] == '-') {
      return i + 1;
    }
  }
  return size;
}

size_t find_dash_line_portable(const char* data, size_t size) {
  return find_dash_line_from(data, size, 0);
}

size_t count_lf_from(const char* data, size_t size, size_t i) {
  size_t n = 0;
  for (; i < size; ++i) {
    n += data[i] == '\n';
  }
  return n;
}

// memchr is vectorised by the C library, which beats a byte loop for the usual line lengths.
size_t count_lf_portable(const char* data, size_t size) {
  size_t n = 0;
  const char* end = data + size;
  for (const char* p = data; p < end; ++n) {
    const void* hit = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (hit == nullptr) {
      break;
    }
    p = static_cast<const char*>(hit) + 1;
  }
  return n;
}

#if RM_MIME_X86

__attribute__((target("sse2"))) size_t find_lf_sse2(const char* data, size_t size) {
  const __m128i lf = _mm_set1_epi8('\n');
  size_t i = 0;
  for (; i + 16 <= size; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    if (mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(mask));
    }
  }
  const size_t rest = find_lf_portable(data + i, size - i);
  return i + rest;
}

// Three overlapping loads compare "\n", "-", "-" at offsets 0, 1, 2 of every position.
__attribute__((target("sse2"))) size_t find_dash_line_sse2(const char* data, size_t size) {
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i dash = _mm_set1_epi8('-');
  size_t i = 0;
  for (; i + 2 + 16 <= size; i += 16) {
    const auto* p = reinterpret_cast<const __m128i*>(data + i);
    const __m128i a = _mm_cmpeq_epi8(_mm_loadu_si128(p), lf);
    const __m128i b =
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i + 1)), dash);
    const __m128i c =
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i + 2)), dash);
    const unsigned mask =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(a, _mm_and_si128(b, c))));
    if (mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(mask)) + 1;
    }
  }
  return find_dash_line_from(data, size, i);
}

__attribute__((target("sse2,popcnt"))) size_t count_lf_sse2(const char* data, size_t size) {
  const __m128i lf = _mm_set1_epi8('\n');
  size_t n = 0;
  size_t i = 0;
  for (; i + 16 <= size; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    n += static_cast<size_t>(
        __builtin_popcount(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)))));
  }
  return n + count_lf_from(data, size, i);
}

__attribute__((target("avx2"))) size_t find_lf_avx2(const char* data, size_t size) {
  const __m256i lf = _mm256_set1_epi8('\n');
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, lf)));
    if (mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(mask));
    }
  }
  return i + find_lf_portable(data + i, size - i);
}

__attribute__((target("avx2"))) size_t find_dash_line_avx2(const char* data, size_t size) {
  const __m256i lf = _mm256_set1_epi8('\n');
  const __m256i dash = _mm256_set1_epi8('-');
  size_t i = 0;
  for (; i + 2 + 32 <= size; i += 32) {
    const __m256i a =
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i)), lf);
    const __m256i b =
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 1)), dash);
    const __m256i c =
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i + 2)), dash);
    const unsigned mask =
        static_cast<unsigned>(_mm256_movemask_epi8(_mm256_and_si256(a, _mm256_and_si256(b, c))));
    if (mask != 0) {
      return i + static_cast<size_t>(__builtin_ctz(mask)) + 1;
    }
  }
  return find_dash_line_from(data, size, i);
}

__attribute__((target("avx2,popcnt"))) size_t count_lf_avx2(const char* data, size_t size) {
  const __m256i lf = _mm256_set1_epi8('\n');
  size_t n = 0;
  size_t i = 0;
  for (; i + 32 <= size; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(data + i));
    n += static_cast<size_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, lf)))));
  }
  return n + count_lf_from(data, size, i);
}

constexpr MimeScanner kSse2{MimeScanImpl::kSse2, find_lf_sse2, find_dash_line_sse2, count_lf_sse2};
constexpr MimeScanner kAvx2{MimeScanImpl::kAvx2, find_lf_avx2, find_dash_line_avx2, count_lf_avx2};

#endif  // RM_MIME_X86

constexpr MimeScanner kPortable{MimeScanImpl::kPortable, find_lf_portable, find_dash_line_portable,
                                count_lf_portable};

}  // namespace

bool mime_scan_supported(MimeScanImpl impl) {
  switch (impl) {
    case MimeScanImpl::kPortable:
      return true;
#if RM_MIME_X86
    case MimeScanImpl::kSse2:
      return __builtin_cpu_supports("sse2") && __builtin_cpu_supports("popcnt");
    case MimeScanImpl::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
#else
    default:
      return false;
#endif
  }
  return false;
}

const MimeScanner& mime_scanner(MimeScanImpl impl) {
  RM_ASSERT(mime_scan_supported(impl));
#if RM_MIME_X86
  if (impl == MimeScanImpl::kAvx2) {
    return kAvx2;
  }
  if (impl == MimeScanImpl::kSse2) {
    return kSse2;
  }
#endif
  return kPortable;
}

const MimeScanner& mime_scanner_best() {
  static const MimeScanner& best =
      mime_scan_supported(MimeScanImpl::kAvx2)   ? mime_scanner(MimeScanImpl::kAvx2)
      : mime_scan_supported(MimeScanImpl::kSse2) ? mime_scanner(MimeScanImpl::kSse2)
                                                 : mime_scanner(MimeScanImpl::kPortable);
  return best;
}

}  // namespace rm::mime
