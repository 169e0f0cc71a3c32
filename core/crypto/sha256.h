// Sha256: SHA-256 (FIPS 180-4), incremental — what DKIM hashes every message body with.
//
//   Sha256 h;
//   h.update(part1); h.update(part2);
//   Sha256::Digest d = h.finish();   // the object is reset and can hash again
//
// The block function is chosen once at run time for the CPU (see sha256_compress.h); every
// implementation gives the same digest.
// Thread-safety: an object is used by one thread at a time; no shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rm {

class Sha256 {
 public:
  static constexpr size_t kDigestBytes = 32;
  static constexpr size_t kBlockBytes = 64;
  using Digest = std::array<uint8_t, kDigestBytes>;

  Sha256() { reset(); }
  void reset();
  void update(std::string_view bytes);
  void update(const void* data, size_t size) {
    update(std::string_view(static_cast<const char*>(data), size));
  }
  // The digest of everything given since the last reset; then resets.
  Digest finish();

  static Digest hash(std::string_view bytes);

 private:
  uint32_t state_[8];
  uint8_t buffer_[kBlockBytes];
  size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed so far
};

}  // namespace rm
