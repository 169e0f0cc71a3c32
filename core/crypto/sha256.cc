#include "core/crypto/sha256.h"

#include <algorithm>
#include <cstring>

#include "core/crypto/sha256_compress.h"

namespace rm {

void Sha256::reset() {
  static constexpr uint32_t kInitial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::memcpy(state_, kInitial, sizeof(state_));
  buffered_ = 0;
  length_ = 0;
}

void Sha256::update(std::string_view bytes) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  size_t size = bytes.size();
  length_ += size;
  if (buffered_ > 0) {
    size_t take = std::min(size, kBlockBytes - buffered_);
    std::memcpy(buffer_ + buffered_, data, take);
    buffered_ += take;
    data += take;
    size -= take;
    if (buffered_ < kBlockBytes) return;
    sha256_compress(state_, buffer_, 1);
    buffered_ = 0;
  }
  size_t blocks = size / kBlockBytes;
  if (blocks > 0) {
    sha256_compress(state_, data, blocks);
    data += blocks * kBlockBytes;
    size -= blocks * kBlockBytes;
  }
  if (size > 0) {
    std::memcpy(buffer_, data, size);
    buffered_ = size;
  }
}

Sha256::Digest Sha256::finish() {
  uint64_t bits = length_ * 8;
  uint8_t pad[kBlockBytes * 2] = {0x80};
  size_t pad_len = (buffered_ < 56 ? 56 : 120) - buffered_;
  for (int i = 0; i < 8; ++i) pad[pad_len + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  update(pad, pad_len + 8);
  Digest digest;
  for (size_t i = 0; i < 8; ++i) {
    for (size_t b = 0; b < 4; ++b) digest[4 * i + b] = static_cast<uint8_t>(state_[i] >> (24 - 8 * b));
  }
  reset();
  return digest;
}

Sha256::Digest Sha256::hash(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

}  // namespace rm
