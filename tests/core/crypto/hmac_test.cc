#include "core/crypto/hmac.h"

#include <gtest/gtest.h>

#include <string>

namespace rm {
namespace {

std::string hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

// RFC 2202 (HMAC-SHA1) and RFC 4231 (HMAC-SHA256) test cases 1, 2 and the long key.
TEST(Hmac, KnownAnswers) {
  const std::string key1(20, '\x0b');
  EXPECT_EQ(hex(Hmac::compute(HmacHash::kSha1, key1, "Hi There")),
            "b617318655057264e28bc0b6fb378c8ef146be00");
  EXPECT_EQ(hex(Hmac::compute(HmacHash::kSha256, key1, "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hex(Hmac::compute(HmacHash::kSha256, "Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hex(Hmac::compute(HmacHash::kSha256, std::string(131, '\xaa'),
                              "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hex(Hmac::compute(HmacHash::kSha1, "", "")),
            "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
}

TEST(Hmac, IncrementalReusableAndMovable) {
  Hmac mac(HmacHash::kSha1, "Jefe");
  mac.update("what do ya ");
  mac.update("");
  mac.update("want for nothing?");
  const std::string expected = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
  EXPECT_EQ(hex(mac.finish()), expected);
  Hmac moved = std::move(mac);
  moved.update("what do ya want for nothing?");
  EXPECT_EQ(hex(moved.finish()), expected);
  HmacSha1::Digest d = HmacSha1::compute("Jefe", "what do ya want for nothing?");
  EXPECT_EQ(hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())), expected);
}

}  // namespace
}  // namespace rm
