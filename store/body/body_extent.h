// BodyExtent: where a piece of a stored message body lives — a byte range of a body segment
// file, with the CRC-32C of its bytes. A body is the concatenation of its extents.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>

namespace rm {

// A small body is stored with its envelope, in the database's blob family under the
// message's key: then the envelope has one extent, in this pseudo-segment, at offset 0.
inline constexpr uint64_t kInlineBodySegment = 0;

struct BodyExtent {
  uint64_t segment = 0;  // the segment file's number (BodyStore::segment_path), or inline
  uint64_t offset = 0;   // byte offset in that file
  uint32_t length = 0;
  uint32_t crc = 0;  // crc32c of the bytes

  friend bool operator==(const BodyExtent&, const BodyExtent&) = default;
};

}  // namespace rm
