// MimeScanner: the byte scans under the MIME parser (line ends, "--" boundary candidates,
// line counts), with one implementation per instruction set and run-time dispatch.
//
//   const MimeScanner& scan = mime_scanner_best();
//   size_t at = scan.find_dash_line(body.data(), body.size());  // first "\n--" + 1, or size
//
// The AVX2 and SSE2 versions are compiled with function target attributes, so the rest of
// the program needs no -mavx2; mime_scanner_best() picks the widest one the CPU supports.
// Tests take each implementation explicitly (mime_scanner(kind)) and check they agree.
// Untrusted input: the scanned bytes. Thread-safety: the scanners are immutable; safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rm::mime {

enum class MimeScanImpl : uint8_t { kPortable, kSse2, kAvx2 };

struct MimeScanner {
  MimeScanImpl impl;
  // Index of the first '\n' in data[0, size), or size.
  size_t (*find_lf)(const char* data, size_t size);
  // The smallest i with 1 <= i and i + 1 < size where data[i - 1] == '\n' and
  // data[i] == data[i + 1] == '-' (a line that may be a boundary), or size.
  // Position 0 is the caller's to check: only it knows whether a line starts there.
  size_t (*find_dash_line)(const char* data, size_t size);
  // Number of '\n' in data[0, size).
  size_t (*count_lf)(const char* data, size_t size);
};

// Whether this CPU can run `impl` (kPortable always can).
bool mime_scan_supported(MimeScanImpl impl);
// REQUIRES: mime_scan_supported(impl).
const MimeScanner& mime_scanner(MimeScanImpl impl);
// The fastest implementation this CPU supports (decided once).
const MimeScanner& mime_scanner_best();

}  // namespace rm::mime
