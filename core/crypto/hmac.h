// HMAC (RFC 2104) over SHA-1 and SHA-256, computed by wolfCrypt: what SRS signs its rewritten
// addresses with (HMAC-SHA1, as libsrs2 and postsrsd do).
//
//   HmacSha1 mac("secret");
//   mac.update("part1"); mac.update("part2");
//   HmacSha1::Digest d = mac.finish();       // then the object can sign again with the same key
//   HmacSha1::Digest e = HmacSha1::compute("secret", "part1part2");   // d == e
//
// Keys of any length are accepted (longer than a block: hashed first, as RFC 2104 says).
// Thread-safety: an object is used by one thread at a time; no shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace rm {

enum class HmacHash : uint8_t { kSha1, kSha256 };

// One HMAC computation at a time with a fixed key; the wolfCrypt state lives behind a pointer
// so that this header does not pull in wolfSSL.
class Hmac {
 public:
  static constexpr size_t kSha1DigestBytes = 20;
  static constexpr size_t kSha256DigestBytes = 32;

  Hmac(HmacHash hash, std::string_view key);
  ~Hmac();
  Hmac(Hmac&&) noexcept;
  Hmac& operator=(Hmac&&) noexcept;
  Hmac(const Hmac&) = delete;
  Hmac& operator=(const Hmac&) = delete;

  void update(std::string_view bytes);
  // The MAC of everything given since construction or the last finish(), as raw bytes
  // (20 for SHA-1, 32 for SHA-256); then starts over with the same key.
  std::string finish();

  static std::string compute(HmacHash hash, std::string_view key, std::string_view message);

 private:
  struct State;
  void start();
  std::unique_ptr<State> state_;
};

// HMAC-SHA1 with the digest as a fixed array, for callers that truncate or encode it.
class HmacSha1 {
 public:
  using Digest = std::array<uint8_t, Hmac::kSha1DigestBytes>;

  explicit HmacSha1(std::string_view key) : hmac_(HmacHash::kSha1, key) {}
  void update(std::string_view bytes) { hmac_.update(bytes); }
  Digest finish();

  static Digest compute(std::string_view key, std::string_view message);

 private:
  Hmac hmac_;
};

}  // namespace rm
