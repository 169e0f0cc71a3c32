// The binary form of a body's extents inside store records: a count, then per extent its
// segment, offset, length and crc as varints. Shared by envelopes and mailbox entries.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/base/status.h"
#include "store/body/body_extent.h"
#include "store/codec/binary_codec.h"

namespace rm {

inline constexpr size_t kBodyExtentsMax = 1 << 20;

void put_extents(std::string& out, const std::vector<BodyExtent>& extents);
// Reads what put_extents wrote.
Status read_extents(codec::Reader& r, std::vector<BodyExtent>& out);
// The bytes the extents hold together.
uint64_t extent_bytes(const std::vector<BodyExtent>& extents);

}  // namespace rm
