// MimeTree: the MIME structure of one message (RFC 2045/2046), as IMAP FETCH needs it.
//
//   Result<MimeTree> tree = parse_mime(message);
//   for (const MimePart& p : tree->parts) ...   // parts[0] is the whole message
//
// The tree is flat: parts in document order (pre-order), each with its parent and children
// by index, the byte offsets of its header block and body within the message, and the
// parsed content fields. Part kinds:
//   - kMultipart: children are the body parts between the boundaries (preamble and epilogue
//     excluded; the line end before a boundary belongs to the boundary, RFC 2046 §5.1.1);
//   - kMessage (message/rfc822, message/global, not base64/QP encoded): one child, the
//     embedded message (its own header and body);
//   - kLeaf: everything else.
// Sizes are bytes of the message as stored (line ends are not rewritten to CRLF); body_lines
// counts lines, a last line without a line end included.
//
// Tolerant of broken mail: LF-only line ends, a missing close boundary (the last part runs
// to the end of its parent), a multipart without a usable boundary (or with no part at all)
// becomes text/plain, garbage header lines are skipped, a header without a body, NULs.
// A boundary delimiter is "--boundary", optionally "--", then only blanks to the line end.
// Limits (MimeLimits): past a limit the rest is kept as an opaque body, never an error. A
// multipart or message part past the depth or part limit becomes application/octet-stream
// with `truncated` set, so that BODYSTRUCTURE stays well formed; so does a base64 or
// quoted-printable message/rfc822 part (not parsed, and it could not have an envelope).
// Untrusted input: the message. Thread-safety: parse_mime is a pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "proto/mime/content_fields.h"
#include "proto/mime/scan.h"

namespace rm::mime {

inline constexpr uint32_t kMimeNoPart = UINT32_MAX;
// Whatever MimeLimits says, the tree is never deeper than this (code that walks the tree
// recurses once per level).
inline constexpr uint32_t kMimeDepthHardMax = 64;
inline constexpr uint64_t kMimeMessageBytesMax = uint64_t{1} << 40;

struct MimeLimits {
  uint32_t depth_max = 20;               // nesting levels below the message (multipart, message/*)
  uint32_t parts_max = 1000;             // parts in the tree, the message included
  size_t header_bytes_max = 256 * 1024;  // per part; the rest is body
  uint32_t header_fields_max = 1000;     // per part; later fields are not interpreted
  uint32_t params_max = 64;              // parameters per Content-Type / -Disposition, languages
  uint32_t boundary_bytes_max = 200;     // RFC 2046 allows 70; longer means no boundary
};

enum class MimePartKind : uint8_t { kLeaf = 0, kMultipart = 1, kMessage = 2 };

struct MimePart {
  uint32_t parent = kMimeNoPart;
  uint32_t depth = 0;  // 0 for the message
  std::vector<uint32_t> children;
  MimePartKind kind = MimePartKind::kLeaf;
  bool truncated = false;  // a limit stopped the parsing of this part's content

  uint64_t header_offset = 0;  // the header block, its blank line included
  uint64_t header_size = 0;
  uint64_t body_offset = 0;  // == header_offset + header_size
  uint64_t body_size = 0;
  uint64_t body_lines = 0;

  std::string type = "text";  // as written (or the default)
  std::string subtype = "plain";
  std::vector<MimeParam> params;  // text/* always has a charset (us-ascii by default)
  std::string id;                 // Content-ID, unfolded; empty when absent
  std::string description;        // Content-Description, unfolded, raw
  std::string encoding = "7BIT";  // Content-Transfer-Encoding as written, default 7BIT
  std::string md5;                // Content-MD5
  std::string disposition;        // Content-Disposition type; empty when absent
  std::vector<MimeParam> disposition_params;
  std::vector<std::string> languages;  // Content-Language tags
  std::string location;                // Content-Location, unfolded

  bool operator==(const MimePart&) const = default;
};

struct MimeTree {
  std::vector<MimePart> parts;
  bool operator==(const MimeTree&) const = default;
};

// Fails only when the message is larger than kMimeMessageBytesMax.
Result<MimeTree> parse_mime(std::string_view message, const MimeLimits& limits = {},
                            const MimeScanner& scan = mime_scanner_best());

bool mime_iequals(std::string_view a, std::string_view b);

}  // namespace rm::mime
