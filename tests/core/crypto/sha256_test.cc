#include "core/crypto/sha256.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/crypto/sha256_compress.h"

namespace rm {
namespace {

std::string hex(const Sha256::Digest& d) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(hex(Sha256::hash("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(Sha256::hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex(Sha256::hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalMatchesOneShot) {
  std::string data(100000, 'a');
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<char>(i * 131 + 7);
  Sha256 h;
  for (size_t pos = 0, step = 1; pos < data.size(); pos += step, step = step * 3 % 257 + 1) {
    h.update(std::string_view(data).substr(pos, step));
  }
  EXPECT_EQ(h.finish(), Sha256::hash(data));
  EXPECT_EQ(hex(Sha256::hash(std::string(1000000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ImplementationIsOneOfTheSupported) {
  const auto impls = sha256_implementations();
  ASSERT_FALSE(impls.empty());
  EXPECT_EQ(impls.back().name, "portable");
  EXPECT_EQ(sha256_implementation(), impls.front().name);
}

// FIPS 180-4 examples run through each block function, padded by hand.
std::string digest_with(Sha256CompressFn compress, std::string_view message) {
  uint32_t state[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::string padded(message);
  padded += '\x80';
  while (padded.size() % 64 != 56)
    padded += '\0';
  const uint64_t bits = message.size() * 8;
  for (int i = 7; i >= 0; --i)
    padded += static_cast<char>(bits >> (8 * i));
  compress(state, reinterpret_cast<const uint8_t*>(padded.data()), padded.size() / 64);
  Sha256::Digest d;
  for (size_t i = 0; i < 32; ++i)
    d[i] = static_cast<uint8_t>(state[i / 4] >> (24 - 8 * (i % 4)));
  return hex(d);
}

TEST(Sha256, EveryImplementationGivesTheKnownAnswers) {
  for (const Sha256Implementation& impl : sha256_implementations()) {
    SCOPED_TRACE(impl.name);
    EXPECT_EQ(digest_with(impl.compress, ""),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(digest_with(impl.compress, "abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(
        digest_with(impl.compress, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    EXPECT_EQ(digest_with(impl.compress,
                          "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                          "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    EXPECT_EQ(digest_with(impl.compress, std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  }
}

TEST(Sha256, EveryImplementationAgreesWithPortableOnRandomInput) {
  std::mt19937 rng(180);
  std::vector<uint8_t> data(64 * 300 + 1);
  for (uint8_t& b : data)
    b = static_cast<uint8_t>(rng());
  for (const Sha256Implementation& impl : sha256_implementations()) {
    SCOPED_TRACE(impl.name);
    for (size_t blocks = 0; blocks <= 300; blocks += blocks < 20 ? 1 : 37) {
      uint32_t want[8], got[8];
      for (uint32_t& w : want)
        w = static_cast<uint32_t>(rng());
      std::memcpy(got, want, sizeof(want));
      // Offset by one byte: the block functions must not assume alignment.
      sha256_compress_portable(want, data.data() + 1, blocks);
      impl.compress(got, data.data() + 1, blocks);
      ASSERT_EQ(0, std::memcmp(want, got, sizeof(want))) << blocks << " blocks";
    }
  }
}

}  // namespace
}  // namespace rm
