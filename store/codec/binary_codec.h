// The binary record encoding shared by the store's records (envelopes, mailbox entries):
// LEB128 varints (minimal: one encoding per value), single bytes, length-prefixed strings,
// and a bounds-checked Reader for bytes read back from disk, which may be corrupt.
// Reader errors are InvalidArgument("corrupt <record>: <field>: <what>").
// Thread-safety: pure functions; a Reader is a cursor used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm::codec {

inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void put_byte(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

inline void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

inline int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Big-endian fixed-width integers, for keys that must sort numerically.
inline void put_be32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
inline void put_be64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}
// The big-endian integer in the first 4 / 8 bytes of `in` (the caller checks the size).
uint32_t get_be32(std::string_view in);
uint64_t get_be64(std::string_view in);

class Reader {
 public:
  // `record` names the record in errors ("envelope", "mailbox entry", ...).
  Reader(std::string_view in, std::string_view record) : in_(in), record_(record) {}

  size_t remaining() const { return in_.size() - pos_; }
  Status corrupt(std::string_view field, std::string_view what) const;

  // A minimal LEB128 varint of at most 64 bits.
  Status varint(std::string_view field, uint64_t& out);
  // A varint that fits 32 bits.
  Status u32(std::string_view field, uint32_t& out);
  // A byte no greater than `max`.
  Status byte(std::string_view field, uint8_t max, uint8_t& out);
  // A byte that is 0 or 1.
  Status flag(std::string_view field, bool& out);
  // A length-prefixed string of at most `max_bytes`.
  Status string(std::string_view field, size_t max_bytes, std::string& out);
  // OK when every byte was read.
  Status end() const;

 private:
  std::string_view in_;
  std::string_view record_;
  size_t pos_ = 0;
};

}  // namespace rm::codec
