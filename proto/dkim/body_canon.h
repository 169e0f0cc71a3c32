// DkimBodyHasher: DKIM body canonicalization (RFC 6376 §3.4.3 simple, §3.4.4 relaxed) fused
// with SHA-256, streamed: the body hash (bh=, before base64) of a message body of any size,
// in constant memory.
//
//   DkimBodyHasher h(DkimCanon::kRelaxed);
//   h.update(piece1); h.update(piece2);        // any split gives the same digest
//   Sha256::Digest bh = h.finish();
//   uint64_t l = h.canonical_length();         // the l= a signer would write
//
// Input: the bytes after the header's blank line. Lines end in CRLF; a bare LF is taken as
// CRLF; a bare CR is an ordinary byte.
//   simple:  trailing empty lines are removed; a missing final CRLF is added; an empty body
//            becomes CRLF.
//   relaxed: every run of SP/HT inside a line becomes one SP, SP/HT at a line's end is
//            removed, trailing empty lines are removed, a missing final CRLF is added; an
//            empty body (or one of only empty/blank lines) stays empty, as dkimpy and OpenDKIM
//            hash it (RFC 6376 erratum 1384).
// An unterminated last line is treated as if it ended in CRLF (so under relaxed its trailing
// SP/HT is removed; dkimpy would keep one SP there). SMTP bodies always end in CRLF.
//
// Length limit (l=): only the first `length_limit` canonical bytes are hashed; all of them
// are still counted by canonical_length(), so a verifier can check that the body is at
// least l= bytes long.
//
// Speed (chosen once at run time): relaxed on AVX-512 (VBMI2) or AVX2 works 64 bytes at a
// time with masks and packs the kept bytes, with no branch per whitespace run; otherwise a
// SIMD scan (AVX2, SSE2; a portable loop elsewhere) finds the bytes canonicalization changes
// and what lies between goes to SHA-256 as it is. Long runs are hashed straight from the
// caller's buffer; short ones and packed blocks are gathered in a 4 KiB stage inside the
// object and hashed together. Pending trailing whitespace and pending empty lines are kept
// as counts, never buffered, so memory stays constant whatever the input.
// Untrusted input: yes — message bodies, signed or verified.
// Thread-safety: an object is used by one thread at a time; no shared mutable state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/crypto/sha256.h"

namespace rm {

enum class DkimCanon : uint8_t { kSimple, kRelaxed };

// The SIMD level a DkimBodyHasher uses; kBest picks the fastest the CPU runs. The others
// exist so tests and benchmarks can compare them (all give the same digests).
enum class DkimBodyScan : uint8_t { kBest, kPortable, kSse2, kAvx2, kAvx512 };

class DkimBodyHasher {
 public:
  explicit DkimBodyHasher(DkimCanon canon, uint64_t length_limit = UINT64_MAX /* l= */)
      : DkimBodyHasher(canon, length_limit, DkimBodyScan::kBest) {}
  // REQUIRES: scan_supported(scan).
  DkimBodyHasher(DkimCanon canon, uint64_t length_limit, DkimBodyScan scan);

  void update(std::string_view chunk);  // any split of the body gives the same result
  // The body hash. Call once; canonical_length() stays valid after it.
  Sha256::Digest finish();
  // Canonical bytes produced so far (after finish(): the whole canonical body, what l=
  // counts), including any beyond the length limit.
  uint64_t canonical_length() const { return produced_; }

  static bool scan_supported(DkimBodyScan scan);
  // The scanner kBest resolves to on this CPU ("avx512", "avx2", "sse2" or "portable").
  static std::string_view best_scan_name();

  // Returns the first byte in [p, end) whose canonical form differs from the input, or end.
  // `prev_cr`: the byte before p (in the same chunk) is a CR.
  using ScanFn = const char* (*)(const char* p, const char* end, bool prev_cr);
  // Relaxed block mode (AVX2, AVX-512): canonical bytes of whole 64-byte blocks from p.
  struct BlockRun {
    const char* consumed_to;  // just after the last content byte taken (p if none)
    size_t out_bytes;         // canonical bytes for [p, consumed_to), written to out
    const char* scanned_to;   // where the blocks stopped being looked at
  };
  // REQUIRES: `out` has room for 64 * (max_blocks + 1) bytes.
  using BlocksFn = BlockRun (*)(const char* p, const char* end, bool prev_cr, char* out,
                                size_t max_blocks);

 private:
  void process(const char* begin, const char* p, const char* end);
  const char* blocks(const char* begin, const char* p, const char* end);
  void run(const char* p, const char* stop, bool at_chunk_end);
  const char* handle_stop(const char* p, const char* end);
  void end_lines(uint64_t count, const char* crlfs_in_input);
  void content(const char* p, const char* end);
  void flush_pending_lines();
  void emit(const char* p, size_t n);
  void emit_literal(const char* p, size_t n);
  void emit_crlfs(uint64_t count);
  void flush_span();
  void stage(const char* p, size_t n);
  void flush_stage();

  static constexpr size_t kStageBytes = 4096;

  Sha256 sha_;
  const DkimCanon canon_;
  const uint64_t length_limit_;
  ScanFn scan_;
  const BlocksFn blocks_;              // relaxed with AVX2 or AVX-512, else nullptr
  const char* content_end_ = nullptr;  // set by blocks()
  uint64_t produced_ = 0;              // canonical bytes, counted past the limit too
  uint64_t hashed_ = 0;                // min(produced_, length_limit_)
  // Line ends seen but not yet written: they are dropped if only empty lines follow.
  uint64_t pending_crlfs_ = 0;
  // When the pending line ends are CRLF pairs side by side in the current chunk: where, so
  // they can be hashed in place together with the bytes around them.
  const char* pending_crlf_source_ = nullptr;
  bool pending_wsp_ = false;  // relaxed: SP/HT seen since the last content byte of the line
  const char* pending_wsp_source_ = nullptr;  // an SP of that run in the current chunk
  bool pending_cr_ = false;  // the last chunk ended in CR: its meaning depends on the next byte
  // Input bytes [span_begin_, span_end_) of the current chunk are canonical output not yet
  // given to sha_: consecutive runs are hashed with one call.
  const char* span_begin_ = nullptr;
  const char* span_end_ = nullptr;
  // Canonical bytes not taken from the input in place (short runs, literals), waiting to be
  // hashed in one update.
  size_t staged_ = 0;
  char stage_[kStageBytes + 64];  // block mode's last store may run up to 64 bytes over
};

}  // namespace rm
