#include "proto/dkim/body_canon.h"

#include <algorithm>
#include <cstring>

#include "core/base/assert.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace rm {
namespace {

// How the body is cut up: the scanner stops only at bytes whose canonical form differs from
// the input (a bare LF; under relaxed also HT and an SP that is not a lone SP before a
// content byte). Everything between two such stops is hashed as it is, in place, except the
// line ends at its very end: those wait as a count until content follows them (trailing
// empty lines are dropped). A CRLF and a bare CR are canonical as they are, so they never
// stop the scan.

constexpr bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}
constexpr bool is_line_byte(char c) {
  return c == '\r' || c == '\n';
}

// `prev_cr`: the byte before p is a CR of the same chunk.
const char* scan_simple_portable(const char* p, const char* end, bool prev_cr) {
  for (; p < end; ++p) {
    if (*p == '\n' && !prev_cr) {
      return p;
    }
    prev_cr = *p == '\r';
  }
  return p;
}

// An SP that ends the chunk stops the scan: what follows it is unknown.
const char* scan_relaxed_portable(const char* p, const char* end, bool prev_cr) {
  for (; p < end; ++p) {
    const char c = *p;
    if (c == '\t' || (c == '\n' && !prev_cr)) {
      return p;
    }
    if (c == ' ' && (p + 1 == end || is_wsp(p[1]) || is_line_byte(p[1]))) {
      return p;
    }
    prev_cr = c == '\r';
  }
  return p;
}

#if defined(__x86_64__)

// The SIMD scanners test a vector of bytes at once. "LF not after CR" uses the CR mask shifted
// by one lane, carrying the last lane into the next vector; "SP before WSP or a line byte"
// loads the vector one byte further on. The last few bytes go to the portable loop.

const char* scan_simple_sse2(const char* p, const char* end, bool prev_cr) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  unsigned carry = prev_cr ? 1 : 0;
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const auto cr_mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)));
    const auto lf_mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    const unsigned bare_lf = lf_mask & ~((cr_mask << 1) | carry);
    if (bare_lf != 0) {
      return p + __builtin_ctz(bare_lf);
    }
    carry = cr_mask >> 15;
  }
  return scan_simple_portable(p, end, carry != 0);
}

const char* scan_relaxed_sse2(const char* p, const char* end, bool prev_cr) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  const __m128i ht = _mm_set1_epi8('\t');
  const __m128i sp = _mm_set1_epi8(' ');
  unsigned carry = prev_cr ? 1 : 0;
  for (; end - p >= 17; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i next = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    const __m128i next_special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(next, cr), _mm_cmpeq_epi8(next, lf)),
                     _mm_or_si128(_mm_cmpeq_epi8(next, ht), _mm_cmpeq_epi8(next, sp)));
    const __m128i wsp =
        _mm_or_si128(_mm_cmpeq_epi8(v, ht), _mm_and_si128(_mm_cmpeq_epi8(v, sp), next_special));
    const auto cr_mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)));
    const auto lf_mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    const unsigned attention =
        static_cast<unsigned>(_mm_movemask_epi8(wsp)) | (lf_mask & ~((cr_mask << 1) | carry));
    if (attention != 0) {
      return p + __builtin_ctz(attention);
    }
    carry = cr_mask >> 15;
  }
  return scan_relaxed_portable(p, end, carry != 0);
}

#define RM_AVX2_TARGET __attribute__((target("avx2")))

RM_AVX2_TARGET const char* scan_simple_avx2(const char* p, const char* end, bool prev_cr) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  unsigned carry = prev_cr ? 1 : 0;
  for (; end - p >= 32; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const auto cr_mask = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, cr)));
    const auto lf_mask = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, lf)));
    const unsigned bare_lf = lf_mask & ~((cr_mask << 1) | carry);
    if (bare_lf != 0) {
      return p + __builtin_ctz(bare_lf);
    }
    carry = cr_mask >> 31;
  }
  return scan_simple_sse2(p, end, carry != 0);
}

RM_AVX2_TARGET const char* scan_relaxed_avx2(const char* p, const char* end, bool prev_cr) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  const __m256i ht = _mm256_set1_epi8('\t');
  const __m256i sp = _mm256_set1_epi8(' ');
  unsigned carry = prev_cr ? 1 : 0;
  for (; end - p >= 33; p += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i next = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 1));
    const __m256i next_special =
        _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(next, cr), _mm256_cmpeq_epi8(next, lf)),
                        _mm256_or_si256(_mm256_cmpeq_epi8(next, ht), _mm256_cmpeq_epi8(next, sp)));
    const __m256i wsp = _mm256_or_si256(_mm256_cmpeq_epi8(v, ht),
                                        _mm256_and_si256(_mm256_cmpeq_epi8(v, sp), next_special));
    const auto cr_mask = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, cr)));
    const auto lf_mask = static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, lf)));
    const unsigned attention =
        static_cast<unsigned>(_mm256_movemask_epi8(wsp)) | (lf_mask & ~((cr_mask << 1) | carry));
    if (attention != 0) {
      return p + __builtin_ctz(attention);
    }
    carry = cr_mask >> 31;
  }
  return scan_relaxed_sse2(p, end, carry != 0);
}

// Relaxed, 64 bytes at a time, without a branch per whitespace run: every byte of a SP/HT run
// but its last is dropped, so is the last when a CRLF follows, HT becomes SP, and the bytes
// kept are packed into `out` with a table of byte shuffles (8 input bytes at a time).
// Decisions about a block's last byte look 2 bytes past it, so only blocks that end at least
// 2 bytes before `end` are taken. A block holding a bare LF (which would grow into CRLF)
// stops the loop before it. They return a DkimBodyHasher::BlockRun.
using BlockRun = DkimBodyHasher::BlockRun;

struct ShuffleTable {
  uint64_t packed[256];  // for each 8-bit keep mask: the indices of its set bits, in order
  uint8_t count[256];
};

constexpr ShuffleTable make_shuffle_table() {
  ShuffleTable t{};
  for (unsigned mask = 0; mask < 256; ++mask) {
    uint64_t packed = 0;
    unsigned n = 0;
    for (unsigned bit = 0; bit < 8; ++bit) {
      if ((mask >> bit) & 1) {
        packed |= uint64_t{bit} << (8 * n++);
      }
    }
    t.packed[mask] = packed;
    t.count[mask] = static_cast<uint8_t>(n);
  }
  return t;
}

constexpr ShuffleTable kShuffle = make_shuffle_table();

RM_AVX2_TARGET uint64_t byte_mask(__m256i lo, __m256i hi, char c) {
  const __m256i want = _mm256_set1_epi8(c);
  const auto low = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, want)));
  const auto high = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, want)));
  return (uint64_t{high} << 32) | low;
}

// Writes the bytes of [lo, hi] whose bit is set in `keep` to `out`, HT as SP; returns how
// many. May write up to 8 bytes past them.
RM_AVX2_TARGET size_t pack_block(__m256i lo, __m256i hi, uint64_t keep, char* out) {
  const __m256i ht = _mm256_set1_epi8('\t');
  const __m256i ht_to_sp = _mm256_set1_epi8('\t' ^ ' ');
  alignas(32) char bytes[64];
  _mm256_store_si256(reinterpret_cast<__m256i*>(bytes),
                     _mm256_xor_si256(lo, _mm256_and_si256(_mm256_cmpeq_epi8(lo, ht), ht_to_sp)));
  _mm256_store_si256(reinterpret_cast<__m256i*>(bytes + 32),
                     _mm256_xor_si256(hi, _mm256_and_si256(_mm256_cmpeq_epi8(hi, ht), ht_to_sp)));
  size_t written = 0;
  for (int group = 0; group < 8; ++group) {
    const unsigned mask = static_cast<unsigned>(keep >> (8 * group)) & 0xFF;
    const __m128i in = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + 8 * group));
    const __m128i order = _mm_cvtsi64_si128(static_cast<int64_t>(kShuffle.packed[mask]));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + written), _mm_shuffle_epi8(in, order));
    written += kShuffle.count[mask];
  }
  return written;
}

// REQUIRES: `out` has room for 64 * max_blocks + 8 bytes.
// What to do with the 64 bytes of a block, from their masks (bit i: byte i).
struct BlockPlan {
  uint64_t keep;     // bytes that stay
  uint64_t content;  // bytes other than SP, HT, CR, LF
  bool bare_lf;
};

inline BlockPlan plan_block(const char* block, uint64_t sp, uint64_t tab, uint64_t cr, uint64_t lf,
                            uint64_t& carry_cr) {
  BlockPlan plan;
  plan.bare_lf = (lf & ~((cr << 1) | carry_cr)) != 0;
  const uint64_t wsp = sp | tab;
  const char next = block[64];
  const uint64_t next_wsp = (wsp >> 1) | (uint64_t{is_wsp(next)} << 63);
  const uint64_t next_lf = (lf >> 1) | (uint64_t{next == '\n'} << 63);
  const uint64_t crlf_start = cr & next_lf;
  const uint64_t next_crlf =
      (crlf_start >> 1) | (uint64_t{next == '\r' && block[65] == '\n'} << 63);
  const uint64_t run_last = wsp & ~next_wsp;
  plan.keep = ~wsp | (run_last & ~next_crlf);
  plan.content = ~(wsp | cr | lf);
  carry_cr = cr >> 63;
  return plan;
}

// Notes the last content byte of a block whose output starts at `block_out`.
inline void note_content(BlockRun& result, const char* block, const BlockPlan& plan,
                         size_t block_out) {
  if (plan.content != 0) {
    const int last = 63 - __builtin_clzll(plan.content);
    const uint64_t upto = last == 63 ? ~uint64_t{0} : (uint64_t{2} << last) - 1;
    result.consumed_to = block + last + 1;
    result.out_bytes = block_out + static_cast<size_t>(__builtin_popcountll(plan.keep & upto));
  }
}

// REQUIRES: `out` has room for 64 * max_blocks + 64 bytes.
RM_AVX2_TARGET BlockRun relaxed_blocks_avx2(const char* p, const char* end, bool prev_cr, char* out,
                                            size_t max_blocks) {
  BlockRun result{p, 0, p};
  size_t written = 0;
  uint64_t carry_cr = prev_cr ? 1 : 0;
  for (const char* block = p; max_blocks > 0 && end - block >= 66; block += 64, --max_blocks) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32));
    const uint64_t tab = byte_mask(lo, hi, '\t');
    const BlockPlan plan = plan_block(block, byte_mask(lo, hi, ' '), tab, byte_mask(lo, hi, '\r'),
                                      byte_mask(lo, hi, '\n'), carry_cr);
    if (plan.bare_lf) {
      result.scanned_to = block;
      break;
    }
    const size_t block_out = written;
    if (plan.keep == ~uint64_t{0} && tab == 0) {  // nothing to change: the common case
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + written), lo);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + written + 32), hi);
      written += 64;
    } else {
      written += pack_block(lo, hi, plan.keep, out + written);
    }
    note_content(result, block, plan, block_out);
    result.scanned_to = block + 64;
  }
  return result;
}

// The same with AVX-512: masks straight from the compares, and VBMI2's byte compress packs
// a block in one instruction.
#define RM_AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512vbmi2")))

RM_AVX512_TARGET BlockRun relaxed_blocks_avx512(const char* p, const char* end, bool prev_cr,
                                                char* out, size_t max_blocks) {
  BlockRun result{p, 0, p};
  size_t written = 0;
  uint64_t carry_cr = prev_cr ? 1 : 0;
  const __m512i sp = _mm512_set1_epi8(' ');
  const __m512i ht = _mm512_set1_epi8('\t');
  const __m512i cr = _mm512_set1_epi8('\r');
  const __m512i lf = _mm512_set1_epi8('\n');
  for (const char* block = p; max_blocks > 0 && end - block >= 66; block += 64, --max_blocks) {
    const __m512i v = _mm512_loadu_si512(block);
    const uint64_t tab = _mm512_cmpeq_epi8_mask(v, ht);
    const BlockPlan plan =
        plan_block(block, _mm512_cmpeq_epi8_mask(v, sp), tab, _mm512_cmpeq_epi8_mask(v, cr),
                   _mm512_cmpeq_epi8_mask(v, lf), carry_cr);
    if (plan.bare_lf) {
      result.scanned_to = block;
      break;
    }
    const __m512i spaced = _mm512_mask_blend_epi8(tab, v, sp);
    _mm512_storeu_si512(out + written, _mm512_maskz_compress_epi8(plan.keep, spaced));
    const size_t block_out = written;
    written += static_cast<size_t>(__builtin_popcountll(plan.keep));
    note_content(result, block, plan, block_out);
    result.scanned_to = block + 64;
  }
  return result;
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
    case DkimBodyScan::kAvx512:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vbmi2");
#else
    case DkimBodyScan::kSse2:
    case DkimBodyScan::kAvx2:
    case DkimBodyScan::kAvx512:
      return false;
#endif
  }
  return false;
}

DkimBodyScan best_scan() {
  static const DkimBodyScan kBest = cpu_runs(DkimBodyScan::kAvx512) ? DkimBodyScan::kAvx512
                                    : cpu_runs(DkimBodyScan::kAvx2) ? DkimBodyScan::kAvx2
                                    : cpu_runs(DkimBodyScan::kSse2) ? DkimBodyScan::kSse2
                                                                    : DkimBodyScan::kPortable;
  return kBest;
}

DkimBodyHasher::BlocksFn blocks_for(DkimBodyScan scan) {
  switch (scan == DkimBodyScan::kBest ? best_scan() : scan) {
#if defined(__x86_64__)
    case DkimBodyScan::kAvx512:
      return relaxed_blocks_avx512;
    case DkimBodyScan::kAvx2:
      return relaxed_blocks_avx2;
#endif
    default:
      return nullptr;
  }
}

DkimBodyHasher::ScanFn scan_for(DkimBodyScan scan, DkimCanon canon) {
  const bool simple = canon == DkimCanon::kSimple;
  switch (scan == DkimBodyScan::kBest ? best_scan() : scan) {
#if defined(__x86_64__)
    case DkimBodyScan::kAvx512:  // its block mode does the work; the scan is for the rest
    case DkimBodyScan::kAvx2:
      return simple ? scan_simple_avx2 : scan_relaxed_avx2;
    case DkimBodyScan::kSse2:
      return simple ? scan_simple_sse2 : scan_relaxed_sse2;
#endif
    default:
      return simple ? scan_simple_portable : scan_relaxed_portable;
  }
}

// A span longer than this is hashed at once rather than at the end of the chunk.
constexpr size_t kSpanBytesMax = 16 * 1024;
// Block mode needs a block and the 2 bytes after it.
constexpr ptrdiff_t kBlockModeBytesMin = 66;
// A span at least this long is hashed in place rather than copied to the stage.
constexpr size_t kDirectBytesMin = 512;

constexpr char kCrlfs[] =
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"
    "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";

}  // namespace

bool DkimBodyHasher::scan_supported(DkimBodyScan scan) {
  return cpu_runs(scan);
}

std::string_view DkimBodyHasher::best_scan_name() {
  switch (best_scan()) {
    case DkimBodyScan::kAvx512:
      return "avx512";
    case DkimBodyScan::kAvx2:
      return "avx2";
    case DkimBodyScan::kSse2:
      return "sse2";
    default:
      return "portable";
  }
}

DkimBodyHasher::DkimBodyHasher(DkimCanon canon, uint64_t length_limit, DkimBodyScan scan)
    : canon_(canon),
      length_limit_(length_limit),
      scan_(scan_for(scan, canon)),
      blocks_(canon == DkimCanon::kRelaxed ? blocks_for(scan) : nullptr) {
  RM_ASSERT(scan_supported(scan));
}

void DkimBodyHasher::update(std::string_view chunk) {
  const char* p = chunk.data();
  const char* end = p + chunk.size();
  if (p == end) {
    return;
  }
  if (pending_cr_) {
    pending_cr_ = false;
    if (*p == '\n') {
      end_lines(1, nullptr);
      ++p;
    } else {
      content(nullptr, nullptr);  // the CR was bare: an ordinary byte
      emit_literal("\r", 1);
    }
  }
  process(chunk.data(), p, end);
  flush_span();
  // The caller's buffer is gone after this call.
  pending_crlf_source_ = nullptr;
  pending_wsp_source_ = nullptr;
}

void DkimBodyHasher::process(const char* begin, const char* p, const char* end) {
  const char* blocks_from = p;  // block mode is not retried over bytes it has looked at
  while (p < end) {
    if (blocks_ != nullptr && p >= blocks_from && end - p >= kBlockModeBytesMin && !pending_wsp_ &&
        pending_crlfs_ == 0) {
      const char* looked_to = blocks(begin, p, end);
      if (content_end_ > p) {
        blocks_from = content_end_;
        p = content_end_;
        continue;
      }
      // No content taken (a bare LF first, or only whitespace and line ends): the scan
      // takes over for what block mode looked at, or for a block's length.
      blocks_from = looked_to > p ? looked_to : p + 64;
    }
    const char* stop = scan_(p, end, p > begin && p[-1] == '\r');
    if (stop > p) {
      run(p, stop, stop == end);
    }
    if (stop < end) {
      p = handle_stop(stop, end);
    } else {
      p = end;
    }
  }
}

// Relaxed block mode from p (a line's content or a body's start, nothing pending): hashes
// through the last content byte it reaches, sets content_end_ to just after it, and returns
// where it stopped looking.
const char* DkimBodyHasher::blocks(const char* begin, const char* p, const char* end) {
  flush_span();
  if (kStageBytes - staged_ < 64) {
    flush_stage();
  }
  const size_t max_blocks = (kStageBytes - staged_) / 64;
  const BlockRun r = blocks_(p, end, p > begin && p[-1] == '\r', stage_ + staged_, max_blocks);
  content_end_ = r.consumed_to;
  produced_ += r.out_bytes;
  const auto take = static_cast<size_t>(std::min<uint64_t>(r.out_bytes, length_limit_ - hashed_));
  hashed_ += take;
  staged_ += take;
  return r.scanned_to;
}

// Bytes [p, stop) that are canonical as they are; `at_chunk_end` when nothing follows them
// in this chunk. Line ends at the end of the run wait as a count, and so does a CR ending
// the chunk (a line end or a bare CR, depending on the next chunk).
void DkimBodyHasher::run(const char* p, const char* stop, bool at_chunk_end) {
  bool cr_at_end = false;
  if (at_chunk_end && stop[-1] == '\r') {
    cr_at_end = true;
    --stop;
  }
  const char* content_end = stop;
  // No bare LF inside a run, so its line ends are CRLF pairs.
  while (content_end - p >= 2 && content_end[-1] == '\n') {
    RM_ASSERT(content_end[-2] == '\r');
    content_end -= 2;
  }
  if (content_end > p) {
    content(p, content_end);
  }
  if (stop > content_end) {
    end_lines(static_cast<uint64_t>(stop - content_end) / 2, content_end);
  }
  pending_cr_ = cr_at_end;
}

// `p` points at a byte the scanner stopped at; returns where to continue.
const char* DkimBodyHasher::handle_stop(const char* p, const char* end) {
  if (*p == '\n') {  // bare LF: a line end
    end_lines(1, nullptr);
    return p + 1;
  }
  RM_ASSERT(canon_ == DkimCanon::kRelaxed && is_wsp(*p));
  pending_wsp_ = true;  // emitted as one SP if content follows on the same line
  pending_wsp_source_ = *p == ' ' ? p : nullptr;
  while (p < end && is_wsp(*p)) {
    ++p;
  }
  return p;
}

// `count` line ends; `crlfs_in_input` is where they are when they are CRLF pairs in the
// current chunk (nullptr if not).
void DkimBodyHasher::end_lines(uint64_t count, const char* crlfs_in_input) {
  pending_wsp_ = false;  // relaxed: whitespace at a line's end is removed
  if (pending_crlfs_ == 0) {
    pending_crlf_source_ = crlfs_in_input;
  } else if (pending_crlf_source_ == nullptr || crlfs_in_input == nullptr ||
             pending_crlf_source_ + 2 * pending_crlfs_ != crlfs_in_input) {
    pending_crlf_source_ = nullptr;  // not contiguous in the input: written out as literals
  }
  pending_crlfs_ += count;
}

// Content bytes [p, end) that start in a line (may be empty, for a literal the caller emits
// next): first the line ends and the whitespace they were waiting for.
void DkimBodyHasher::content(const char* p, const char* end) {
  if (pending_wsp_ && end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
    pending_wsp_ = false;  // the whitespace ended its line (the CRLF came in a later chunk)
  }
  flush_pending_lines();
  if (pending_wsp_) {
    pending_wsp_ = false;
    if (p < end && *p == ' ') {  // a lone SP starting the run is the canonical SP itself
      emit(p, static_cast<size_t>(end - p));
      return;
    }
    if (pending_wsp_source_ != nullptr) {
      emit(pending_wsp_source_, 1);  // the run's first SP, usually right after the span
    } else {
      emit_literal(" ", 1);
    }
  }
  if (p < end) {
    emit(p, static_cast<size_t>(end - p));
  }
}

void DkimBodyHasher::flush_pending_lines() {
  if (pending_crlfs_ == 0) {
    return;
  }
  if (pending_crlf_source_ != nullptr) {
    emit(pending_crlf_source_, static_cast<size_t>(2 * pending_crlfs_));
  } else {
    emit_crlfs(pending_crlfs_);
  }
  pending_crlfs_ = 0;
  pending_crlf_source_ = nullptr;
}

// Input bytes that are canonical output: joined to the span when they follow it.
void DkimBodyHasher::emit(const char* p, size_t n) {
  produced_ += n;
  const auto take = static_cast<size_t>(std::min<uint64_t>(n, length_limit_ - hashed_));
  if (take == 0) {
    return;
  }
  hashed_ += take;
  if (p == span_end_ && span_end_ != nullptr) {
    span_end_ += take;
  } else {
    flush_span();
    span_begin_ = p;
    span_end_ = p + take;
  }
  // Hash while the bytes the scan just read are still in the L1 cache.
  if (static_cast<size_t>(span_end_ - span_begin_) >= kSpanBytesMax) {
    flush_span();
  }
}

void DkimBodyHasher::emit_literal(const char* p, size_t n) {
  produced_ += n;
  const auto take = static_cast<size_t>(std::min<uint64_t>(n, length_limit_ - hashed_));
  if (take == 0) {
    return;
  }
  hashed_ += take;
  flush_span();
  stage(p, take);
}

void DkimBodyHasher::emit_crlfs(uint64_t count) {
  flush_span();
  produced_ += 2 * count;
  uint64_t left = std::min<uint64_t>(2 * count, length_limit_ - hashed_);
  hashed_ += left;
  while (left > 0) {
    const auto take = static_cast<size_t>(std::min<uint64_t>(left, sizeof(kCrlfs) - 1));
    stage(kCrlfs, take);
    left -= take;
  }
}

// A long span goes to the hash from the input; a short one is copied to the stage, so that
// the many short pieces of a body with a lot of whitespace to fold cost a copy each rather
// than a hash update each.
void DkimBodyHasher::flush_span() {
  const auto n = static_cast<size_t>(span_end_ - span_begin_);
  if (n >= kDirectBytesMin) {
    flush_stage();
    sha_.update(span_begin_, n);
  } else if (n > 0) {
    stage(span_begin_, n);
  }
  span_begin_ = span_end_ = nullptr;
}

void DkimBodyHasher::stage(const char* p, size_t n) {
  while (n > 0) {
    if (staged_ == kStageBytes) {
      flush_stage();
    }
    const size_t take = std::min(n, kStageBytes - staged_);
    std::memcpy(stage_ + staged_, p, take);
    staged_ += take;
    p += take;
    n -= take;
  }
}

void DkimBodyHasher::flush_stage() {
  if (staged_ > 0) {
    sha_.update(stage_, staged_);
    staged_ = 0;
  }
}

Sha256::Digest DkimBodyHasher::finish() {
  if (pending_cr_) {  // a CR ending the body is bare
    pending_cr_ = false;
    content(nullptr, nullptr);
    emit_literal("\r", 1);
  }
  pending_wsp_ = false;  // an unterminated last line loses its trailing whitespace too
  if (produced_ > 0 || canon_ == DkimCanon::kSimple) {
    // The last line's end (added if it was missing; the empty lines after it are dropped),
    // or under simple the CRLF an empty body becomes.
    emit_crlfs(1);
  }
  pending_crlfs_ = 0;
  flush_span();
  flush_stage();
  return sha_.finish();
}

}  // namespace rm
