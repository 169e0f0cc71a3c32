#include "store/body/extent_codec.h"

namespace rm {
namespace {

constexpr size_t kExtentBytesMin = 4;  // four one-byte varints

}  // namespace

void put_extents(std::string& out, const std::vector<BodyExtent>& extents) {
  codec::put_varint(out, extents.size());
  for (const BodyExtent& x : extents) {
    codec::put_varint(out, x.segment);
    codec::put_varint(out, x.offset);
    codec::put_varint(out, x.length);
    codec::put_varint(out, x.crc);
  }
}

uint64_t extent_bytes(const std::vector<BodyExtent>& extents) {
  uint64_t total = 0;  // at most 2^20 extents of 2^32 bytes: no overflow
  for (const BodyExtent& x : extents) {
    total += x.length;
  }
  return total;
}

Status read_extents(codec::Reader& r, std::vector<BodyExtent>& out) {
  uint64_t count = 0;
  RM_RETURN_IF_ERROR(r.varint("body extent count", count));
  if (count > kBodyExtentsMax) {
    return r.corrupt("body extent count", "too many extents");
  }
  if (count > r.remaining() / kExtentBytesMin) {
    return r.corrupt("body extent count", "truncated");
  }
  out.resize(count);
  for (BodyExtent& e : out) {
    RM_RETURN_IF_ERROR(r.varint("body extent segment", e.segment));
    RM_RETURN_IF_ERROR(r.varint("body extent offset", e.offset));
    RM_RETURN_IF_ERROR(r.u32("body extent length", e.length));
    RM_RETURN_IF_ERROR(r.u32("body extent crc", e.crc));
  }
  return Status::Ok();
}

}  // namespace rm
