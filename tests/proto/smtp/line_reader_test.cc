#include "proto/smtp/line_reader.h"

#include <gtest/gtest.h>

namespace rm::smtp {
namespace {

TEST(SmtpLineReaderTest, SplitsCrlfLines) {
  LineResult r = next_line("EHLO a\r\nMAIL", 512, false);
  ASSERT_EQ(r.status, LineStatus::kLine);
  EXPECT_EQ(r.line, "EHLO a");
  EXPECT_EQ(r.consumed, 8u);
  EXPECT_EQ(next_line("MAIL", 512, false).status, LineStatus::kNeedMore);
  EXPECT_EQ(next_line("MAIL\r", 512, false).status, LineStatus::kNeedMore);
}

TEST(SmtpLineReaderTest, BareLineEndsAreRefusedUnlessNormalizing) {
  EXPECT_EQ(next_line("NOOP\nQUIT\r\n", 512, false).status, LineStatus::kBareLf);
  EXPECT_EQ(next_line("NOOP\rQUIT\r\n", 512, false).status, LineStatus::kBareCr);
  LineResult r = next_line("NOOP\nQUIT\r\n", 512, true);
  ASSERT_EQ(r.status, LineStatus::kLine);
  EXPECT_EQ(r.line, "NOOP");
  EXPECT_EQ(next_line("NOOP\rQUIT\r\n", 512, true).status, LineStatus::kBareCr);
}

TEST(SmtpLineReaderTest, LineLengthLimitCountsTheCrlf) {
  const std::string ok = std::string(510, 'a') + "\r\n";
  EXPECT_EQ(next_line(ok, 512, false).status, LineStatus::kLine);
  const std::string too_long = std::string(511, 'a') + "\r\n";
  EXPECT_EQ(next_line(too_long, 512, false).status, LineStatus::kTooLong);
  EXPECT_EQ(next_line(std::string(600, 'a'), 512, false).status, LineStatus::kTooLong);
  EXPECT_EQ(skip_past_line("xxxx\nNEXT"), 5u);
  EXPECT_EQ(skip_past_line("xxxx"), 4u);
}

}  // namespace
}  // namespace rm::smtp
