// A compact, versioned binary form of a MimeTree, kept by the store next to the message so
// that FETCH does not parse it again.
//
//   std::string blob = encode_mime_tree(tree);
//   Result<MimeTree> back = decode_mime_tree(blob);   // == tree
//
// Layout (version 1): "MT" 0x01, varint part count, then per part in document order:
// varint parent+1, byte kind, byte flags, varints header_offset, header_size, body_size,
// body_lines, then the strings type, subtype, id, description,
// encoding, md5, disposition, location, and the lists params, disposition params (varint
// count + name/value pairs) and languages (varint count + strings). Children and depth are
// rebuilt from the parents. Offsets only: the message bytes are never copied. A string is
// varint(length * 2) then its bytes, or varint(index * 2 + 1) naming one of a fixed table
// of common values ("text", "plain", "7BIT", "charset", "us-ascii"...).
// Untrusted input: decode treats the bytes as possibly corrupt: every length and count is
// checked against what is left, parents must come before their children, kinds must match
// the children (a multipart has some, a message part exactly one, a leaf none) and the tree
// may not be deeper than kMimeDepthHardMax. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/base/status.h"
#include "proto/mime/mime_tree.h"

namespace rm::mime {

inline constexpr uint8_t kMimeTreeCodecVersion = 1;
inline constexpr uint32_t kMimeTreeDecodePartsMax = 100000;

std::string encode_mime_tree(const MimeTree& tree);
Result<MimeTree> decode_mime_tree(std::string_view bytes);

}  // namespace rm::mime
