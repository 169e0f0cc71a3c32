#include "proto/dkim/body_canon.h"

#include <algorithm>
#include <cstring>

#include "core/base/assert.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace rm {
namespace {

constexpr bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
constexpr bool is_line_byte(char c) {
  return c == '\r' || c == '\n';
}

// simple: only line ends need attention.
const char* scan_simple_portable(const char* p, const char* end) {
  while (p < end && !is_line_byte(*p))
    ++p;
  return p;
}

// relaxed: line ends, HT, and an SP that is not a lone SP between two content bytes (one SP
// followed by a content byte is already canonical). An SP that ends the chunk needs attention
// because what follows it is unknown.
const char* scan_relaxed_portable(const char* p, const char* end) {
  for (; p < end; ++p) {
    const char c = *p;
    if (is_line_byte(c) || c == '\t')
      return p;
    if (c == ' ' && (p + 1 == end || is_wsp(p[1]) || is_line_byte(p[1])))
      return p;
  }
  return p;
}

#if defined(__x86_64__)

// The SIMD scanners: test a vector of bytes at once and stop at the first that needs
// attention; the last few bytes (too few for a vector, or whose successor is past the end)
// go to the portable loop.

const char* scan_simple_sse2(const char* p, const char* end) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (mask != 0)
      return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
  return scan_simple_portable(p, end);
}

// Relaxed needs the byte after each SP: a second load one byte further on.
const char* scan_relaxed_sse2(const char* p, const char* end) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i ht = _mm_set1_epi8('\t');
  const __m128i sp = _mm_set1_epi8(' ');
  for (; end - p >= 17; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    const __m128i special = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
                                         _mm_cmpeq_epi8(v, ht));
    const __m128i next_special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(next, cr), _mm_cmpeq_epi8(next, lf)),
                     _mm_or_si128(_mm_cmpeq_epi8(next, ht), _mm_cmpeq_epi8(next, sp)));
    const __m128i attention =
        _mm_or_si128(special, _mm_and_si128(_mm_cmpeq_epi8(v, sp), next_special));
    const int mask = _mm_movemask_epi8(attention);
    if (mask != 0)
      return p + __builtin_ctz(static_cast<unsigned>(mask));
  }
  return scan_relaxed_portable(p, end);
}

#define RM_AVX2_TARGET __attribute__((target("avx2")))

RM_AVX2_TARGET const char* scan_simple_avx2(const char* p, const char* end) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  for (; end - p >= 32; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const unsigned mask = static_cast<unsigned>(
        _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf))));
    if (mask != 0)
      return p + __builtin_ctz(mask);
  }
  return scan_simple_sse2(p, end);
}

RM_AVX2_TARGET const char* scan_relaxed_avx2(const char* p, const char* end) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  const __m256i ht = _mm256_set1_epi8('\t');
  const __m256i sp = _mm256_set1_epi8(' ');
  for (; end - p >= 33; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i next = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 1));
    const __m256i special =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, cr), _mm256_cmpeq_epi8(v, lf)),
                        _mm256_cmpeq_epi8(v, ht));
    const __m256i next_special =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(next, cr), _mm256_cmpeq_epi8(next, lf)),
                        _mm256_or_si256(_mm256_cmpeq_epi8(next, ht), _mm256_cmpeq_epi8(next, sp)));
    const __m256i attention =
        _mm256_or_si256(special, _mm256_and_si256(_mm256_cmpeq_epi8(v, sp), next_special));
    const unsigned mask = static_cast<unsigned>(_mm256_movemask_epi8(attention));
    if (mask != 0)
      return p + __builtin_ctz(mask);
  }
  return scan_relaxed_sse2(p, end);
}

#endif  // __x86_64__

bool cpu_runs(DkimBodyScan scan) {
  switch (scan) {
    case DkimBodyScan::kBest:
    case DkimBodyScan::kPortable:
      return true;
#if defined(__x86_64__)
    case DkimBodyScan::kSse2:
      return true;  // part of x86-64
    case DkimBodyScan::kAvx2:
      return __builtin_cpu_supports("avx2");
#else
    case DkimBodyScan::kSse2:
    case DkimBodyScan::kAvx2:
      return false;
#endif
  }
  return false;
}

DkimBodyScan best_scan() {
  static const DkimBodyScan kBest = cpu_runs(DkimBodyScan::kAvx2)   ? DkimBodyScan::kAvx2
                                    : cpu_runs(DkimBodyScan::kSse2) ? DkimBodyScan::kSse2
                                                                    : DkimBodyScan::kPortable;
  return kBest;
}

DkimBodyHasher::ScanFn scan_for(DkimBodyScan scan, DkimCanon canon) {
  const bool simple = canon == DkimCanon::kSimple;
  switch (scan == DkimBodyScan::kBest ? best_scan() : scan) {
#if defined(__x86_64__)
    case DkimBodyScan::kAvx2:
      return simple ? scan_simple_avx2 : scan_relaxed_avx2;
    case DkimBodyScan::kSse2:
      return simple ? scan_simple_sse2 : scan_relaxed_sse2;
#endif
    default:
      return simple ? scan_simple_portable : scan_relaxed_portable;
  }
}

constexpr char kCrlfs[] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

}  // namespace

bool DkimBodyHasher::scan_supported(DkimBodyScan scan) {
  return scan == DkimBodyScan::kBest || scan == DkimBodyScan::kPortable;
}

std::string_view DkimBodyHasher::best_scan_name() {
  return "portable";
}

DkimBodyHasher::DkimBodyHasher(DkimCanon canon, uint64_t length_limit, DkimBodyScan scan)
    : canon_(canon), length_limit_(length_limit), scan_(scan_for(scan, canon)) {
  RM_ASSERT(scan_supported(scan));
}

void DkimBodyHasher::update(std::string_view chunk) {
  const char* p = chunk.data();
  const char* end = p + chunk.size();
  if (pending_cr_ && p < end) {
    pending_cr_ = false;
    if (*p == '\n') {
      end_line(nullptr);
      ++p;
    } else {
      content(nullptr, nullptr);  // the CR was bare: an ordinary byte
      emit_literal("\r", 1);
    }
  }
  process(p, end);
  flush_span();
  pending_crlf_source_ = nullptr;  // the caller's buffer is gone after this call
}

void DkimBodyHasher::process(const char* p, const char* end) {
  while (p < end) {
    const char* special = scan_(p, end);
    if (special > p) {
      content(p, special);
      p = special;
    }
    if (p < end)
      p = handle_special(p, end);
  }
}

// `p` points at a byte the scanner stopped at; returns where to continue.
const char* DkimBodyHasher::handle_special(const char* p, const char* end) {
  switch (*p) {
    case '\n':  // bare LF: a line end
      end_line(nullptr);
      return p + 1;
    case '\r':
      if (p + 1 == end) {
        pending_cr_ = true;
        return end;
      }
      if (p[1] == '\n') {
        end_line(p);
        return p + 2;
      }
      content(p, p + 1);  // bare CR
      return p + 1;
    case ' ':
    case '\t':
      if (canon_ == DkimCanon::kRelaxed) {
        pending_wsp_ = true;
        while (p < end && is_wsp(*p))
          ++p;
        return p;
      }
      content(p, p + 1);
      return p + 1;
    default:
      content(p, p + 1);
      return p + 1;
  }
}

void DkimBodyHasher::end_line(const char* crlf_in_input) {
  pending_wsp_ = false;  // relaxed: whitespace at a line's end is removed
  pending_crlf_source_ = pending_crlfs_ == 0 ? crlf_in_input : nullptr;
  ++pending_crlfs_;
}

// Content bytes [p, end) of a line (may be empty, for a literal the caller emits next):
// first the line ends and the whitespace they were waiting for.
void DkimBodyHasher::content(const char* p, const char* end) {
  flush_pending_lines();
  if (pending_wsp_) {
    pending_wsp_ = false;
    if (p < end && *p == ' ') {  // a lone SP starting the run is the canonical SP itself
      emit(p, static_cast<size_t>(end - p));
      return;
    }
    emit_literal(" ", 1);
  }
  if (p < end)
    emit(p, static_cast<size_t>(end - p));
}

void DkimBodyHasher::flush_pending_lines() {
  if (pending_crlfs_ == 0)
    return;
  if (pending_crlfs_ == 1 && pending_crlf_source_ != nullptr) {
    emit(pending_crlf_source_, 2);
  } else {
    emit_crlfs(pending_crlfs_);
  }
  pending_crlfs_ = 0;
  pending_crlf_source_ = nullptr;
}

// Input bytes that are canonical output: joined to the span when they follow it.
void DkimBodyHasher::emit(const char* p, size_t n) {
  produced_ += n;
  const size_t take = static_cast<size_t>(std::min<uint64_t>(n, length_limit_ - hashed_));
  if (take == 0)
    return;
  hashed_ += take;
  if (p == span_end_ && span_end_ != nullptr) {
    span_end_ += take;
    return;
  }
  flush_span();
  span_begin_ = p;
  span_end_ = p + take;
}

void DkimBodyHasher::emit_literal(const char* p, size_t n) {
  produced_ += n;
  const size_t take = static_cast<size_t>(std::min<uint64_t>(n, length_limit_ - hashed_));
  if (take == 0)
    return;
  hashed_ += take;
  flush_span();
  sha_.update(p, take);
}

void DkimBodyHasher::emit_crlfs(uint64_t count) {
  flush_span();
  produced_ += 2 * count;
  uint64_t left = std::min<uint64_t>(2 * count, length_limit_ - hashed_);
  hashed_ += left;
  while (left > 0) {
    const size_t take = static_cast<size_t>(std::min<uint64_t>(left, sizeof(kCrlfs) - 1));
    sha_.update(kCrlfs, take);
    left -= take;
  }
}

void DkimBodyHasher::flush_span() {
  if (span_begin_ != span_end_)
    sha_.update(span_begin_, static_cast<size_t>(span_end_ - span_begin_));
  span_begin_ = span_end_ = nullptr;
}

Sha256::Digest DkimBodyHasher::finish() {
  if (pending_cr_) {  // a CR ending the body is bare
    pending_cr_ = false;
    content(nullptr, nullptr);
    emit_literal("\r", 1);
  }
  pending_wsp_ = false;  // an unterminated last line loses its trailing whitespace too
  if (produced_ > 0) {
    emit_crlfs(1);  // the last line's end (added if it was missing); empty lines dropped
  } else if (canon_ == DkimCanon::kSimple) {
    emit_crlfs(1);  // an empty body is one CRLF under simple, nothing under relaxed
  }
  pending_crlfs_ = 0;
  return sha_.finish();
}

}  // namespace rm
