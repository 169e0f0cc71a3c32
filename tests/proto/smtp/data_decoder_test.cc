#include "proto/smtp/data_decoder.h"

#include <gtest/gtest.h>

#include <string>

namespace rm::smtp {
namespace {

struct Decoded {
  std::string body;
  size_t consumed = 0;
  bool done = false;
  bool bare = false;
  bool too_large = false;
};

// Feeds `input` in pieces of `step` bytes, as the network might deliver it.
Decoded decode(std::string_view input, size_t step, BareLinePolicy policy = BareLinePolicy::kReject,
               uint64_t max = 1 << 20) {
  DataDecoder decoder(policy, max);
  Decoded d;
  while (d.consumed < input.size() && !decoder.done()) {
    const std::string_view piece = input.substr(d.consumed, step);
    d.consumed += decoder.feed(piece, d.body);
  }
  d.done = decoder.done();
  d.bare = decoder.saw_bare_line_end();
  d.too_large = decoder.too_large();
  return d;
}

TEST(SmtpDataDecoderTest, EndsAtCrlfDotCrlfAndUnstuffs) {
  const std::string input = "Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n";
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    Decoded d = decode(input, step);
    EXPECT_TRUE(d.done) << step;
    EXPECT_EQ(d.body, "Subject: x\r\n\r\n.leading dot\r\n") << step;
    EXPECT_EQ(input.substr(d.consumed), "QUIT\r\n") << step;
    EXPECT_FALSE(d.bare);
  }
}

TEST(SmtpDataDecoderTest, EmptyBody) {
  Decoded d = decode(".\r\n", 1);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.body, "");
}

// The published SMTP smuggling end-of-data variants: none may end the message.
TEST(SmtpDataDecoderTest, SmugglingVariantsDoNotEndTheMessage) {
  const char* variants[] = {"\n.\n", "\n.\r\n", "\r.\r\n", "\r\n.\r", "\r\n.\n", "\n.\r", "\r.\n", "\r.\r"};
  for (const char* v : variants) {
    const std::string input = std::string("hello") + v +
                              "MAIL FROM:<evil@example.org>\r\nRCPT TO:<x@example.org>\r\nDATA\r\n"
                              "smuggled\r\n.\r\n";
    for (size_t step : {1u, 5u, 4096u}) {
      Decoded d = decode(input, step);
      EXPECT_TRUE(d.done) << "variant " << testing::PrintToString(std::string(v));
      EXPECT_EQ(d.consumed, input.size()) << "the real end is the only end";
      EXPECT_TRUE(d.bare) << testing::PrintToString(std::string(v));
      EXPECT_NE(d.body.find("MAIL FROM:<evil@example.org>"), std::string::npos);
    }
  }
}

TEST(SmtpDataDecoderTest, NormalizeTurnsBareLineEndsIntoCrlf) {
  Decoded d = decode("a\nb\rc\r\n.\r\n", 3, BareLinePolicy::kNormalize);
  EXPECT_TRUE(d.done);
  EXPECT_TRUE(d.bare);
  EXPECT_EQ(d.body, "a\r\nb\r\nc\r\n");
  d = decode("x\n.\ny\r\n.\r\n", 1, BareLinePolicy::kNormalize);
  EXPECT_EQ(d.body, "x\r\n.\r\ny\r\n");  // "\n.\n" is a line of one dot, not the end
}

TEST(SmtpDataDecoderTest, SizeLimitCountsButDropsTheExcess) {
  Decoded d = decode(std::string(100, 'a') + "\r\n.\r\n", 9, BareLinePolicy::kReject, 50);
  EXPECT_TRUE(d.done);
  EXPECT_TRUE(d.too_large);
  EXPECT_LE(d.body.size(), 50u);
}

TEST(SmtpDataDecoderTest, FindCrOrLfAgreesWithTheObviousLoop) {
  std::string text(300, 'x');
  for (size_t pos = 0; pos < text.size(); pos += 7) {
    std::string t = text;
    t[pos] = (pos % 2) ? '\r' : '\n';
    EXPECT_EQ(find_cr_or_lf(t.data(), t.size()), pos);
    EXPECT_EQ(find_cr_or_lf(t.data(), pos), pos);
  }
  EXPECT_EQ(find_cr_or_lf(text.data(), text.size()), text.size());
}

}  // namespace
}  // namespace rm::smtp
