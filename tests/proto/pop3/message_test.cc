#include "proto/pop3/message.h"

#include <gtest/gtest.h>

#include <string>

namespace rm::pop3 {
namespace {

std::string multiline(std::string_view message) {
  std::string out;
  append_multiline(message, out);
  return out;
}

TEST(Pop3MessageTest, StuffsDotsAndEndsWithTerminator) {
  EXPECT_EQ(multiline("a\r\n.b\r\n..c\r\n.\r\n"), "a\r\n..b\r\n...c\r\n..\r\n.\r\n");
  EXPECT_EQ(multiline(".first line"), "..first line\r\n.\r\n");
  EXPECT_EQ(multiline("x.y\r\n"), "x.y\r\n.\r\n");
}

TEST(Pop3MessageTest, NormalizesLineEnds) {
  EXPECT_EQ(multiline("a\nb\n"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(multiline("a\rb"), "a\r\nb\r\n.\r\n");
  EXPECT_EQ(multiline("no end"), "no end\r\n.\r\n");
  EXPECT_EQ(multiline("a\n.\n"), "a\r\n..\r\n.\r\n");
}

TEST(Pop3MessageTest, EmptyMessage) {
  EXPECT_EQ(multiline(""), ".\r\n");
}

TEST(Pop3MessageTest, AppendsToWhatIsThere) {
  std::string out = "+OK\r\n";
  append_multiline("x\r\n", out);
  EXPECT_EQ(out, "+OK\r\nx\r\n.\r\n");
}

TEST(Pop3MessageTest, LargeMessageWithManyDots) {
  std::string message;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    message += ".line\n";
    expected += "..line\r\n";
  }
  EXPECT_EQ(multiline(message), expected + ".\r\n");
}

TEST(Pop3MessageTest, TopCutsAfterBodyLines) {
  const std::string_view m = "A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n";
  EXPECT_EQ(top_of_message(m, 0), "A: 1\r\nB: 2\r\n\r\n");
  EXPECT_EQ(top_of_message(m, 1), "A: 1\r\nB: 2\r\n\r\none\r\n");
  EXPECT_EQ(top_of_message(m, 3), m);
  EXPECT_EQ(top_of_message(m, 1000000), m);
}

TEST(Pop3MessageTest, TopWithLfAndBareCrLineEnds) {
  EXPECT_EQ(top_of_message("A: 1\n\none\ntwo\n", 1), "A: 1\n\none\n");
  EXPECT_EQ(top_of_message("A: 1\r\rone\rtwo", 1), "A: 1\r\rone\r");
  EXPECT_EQ(top_of_message("A: 1\n\r\none\r\n", 0), "A: 1\n\r\n");
}

TEST(Pop3MessageTest, TopOfHeaderOnlyMessage) {
  EXPECT_EQ(top_of_message("A: 1\r\nB: 2\r\n", 5), "A: 1\r\nB: 2\r\n");
  EXPECT_EQ(top_of_message("A: 1", 0), "A: 1");
  EXPECT_EQ(top_of_message("", 3), "");
  EXPECT_EQ(top_of_message("\r\nbody\r\nmore\r\n", 1), "\r\nbody\r\n");
}

}  // namespace
}  // namespace rm::pop3
