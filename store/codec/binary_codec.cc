#include "store/codec/binary_codec.h"

namespace rm::codec {

uint32_t get_be32(std::string_view in) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

uint64_t get_be64(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  }
  return v;
}

Status Reader::corrupt(std::string_view field, std::string_view what) const {
  return Status::InvalidArgument("corrupt " + std::string(record_) + ": " + std::string(field) +
                                 ": " + std::string(what));
}

Status Reader::varint(std::string_view field, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) {
      return corrupt(field, "truncated");
    }
    const auto b = static_cast<uint8_t>(in_[pos_++]);
    if (shift == 63 && b > 1) {
      return corrupt(field, "varint overflows 64 bits");
    }
    out |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) {
      return (b == 0 && shift > 0) ? corrupt(field, "varint not minimal") : Status::Ok();
    }
  }
  return corrupt(field, "varint too long");
}

Status Reader::u32(std::string_view field, uint32_t& out) {
  uint64_t v = 0;
  RM_RETURN_IF_ERROR(varint(field, v));
  if (v > UINT32_MAX) {
    return corrupt(field, "value out of range");
  }
  out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status Reader::byte(std::string_view field, uint8_t max, uint8_t& out) {
  if (pos_ >= in_.size()) {
    return corrupt(field, "truncated");
  }
  out = static_cast<uint8_t>(in_[pos_++]);
  return out <= max ? Status::Ok() : corrupt(field, "value out of range");
}

Status Reader::flag(std::string_view field, bool& out) {
  uint8_t b = 0;
  RM_RETURN_IF_ERROR(byte(field, 1, b));
  out = b != 0;
  return Status::Ok();
}

Status Reader::string(std::string_view field, size_t max_bytes, std::string& out) {
  uint64_t size = 0;
  RM_RETURN_IF_ERROR(varint(field, size));
  if (size > max_bytes) {
    return corrupt(field, "string too long");
  }
  if (size > remaining()) {
    return corrupt(field, "truncated");
  }
  out.assign(in_.substr(pos_, size));
  pos_ += size;
  return Status::Ok();
}

Status Reader::end() const {
  return remaining() == 0 ? Status::Ok() : corrupt("end", "trailing bytes");
}

}  // namespace rm::codec
