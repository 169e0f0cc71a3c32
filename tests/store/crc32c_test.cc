// CRC-32C: the published check value, and the hardware path against the portable one.
#include "store/body/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace rm {
namespace {

TEST(Crc32cTest, MatchesTheCheckValue) {
  EXPECT_EQ(crc32c("123456789"), 0xe3069283u);  // RFC 3720 B.4's parameters
  EXPECT_EQ(crc32c_extend_portable(0, "123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32cTest, HardwareAndPortableAgreeAtEveryLengthAndSplit) {
  std::mt19937 rng(7);
  std::string data(4099, '\0');
  for (char& c : data) {
    c = static_cast<char>(rng());
  }
  for (size_t length : {0u, 1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4099u}) {
    const std::string_view piece = std::string_view(data).substr(0, length);
    const uint32_t whole = crc32c(piece);
    EXPECT_EQ(whole, crc32c_extend_portable(0, piece)) << length;
    for (size_t split : {size_t{0}, length / 3, length}) {
      EXPECT_EQ(crc32c_extend(crc32c(piece.substr(0, split)), piece.substr(split)), whole);
    }
  }
  std::printf("crc32c: %s\n", crc32c_hardware() ? "sse4.2" : "portable");
}

}  // namespace
}  // namespace rm
