#include "proto/pop3/message.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
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

std::string written(std::string_view message, std::optional<uint32_t> top,
                    std::initializer_list<size_t> splits) {
  MultilineWriter writer(top);
  std::string out;
  size_t from = 0;
  for (const size_t at : splits) {
    writer.feed(message.substr(from, at - from), out);
    from = at;
  }
  writer.feed(message.substr(from), out);
  writer.finish(out);
  return out;
}

// Every way of cutting a message in three gives the same bytes as the whole.
TEST(Pop3MessageTest, ChunksMayBreakAnywhere) {
  const std::string_view messages[] = {
      "A: 1\r\nB: 2\r\n\r\n.one\r\ntwo\r\n.\r\nthree",
      "A: 1\n\n.one\n\ntwo\r\r\n",
      "\r\n\r\n..\r\n",
      "no header\rat all.",
  };
  for (const std::string_view m : messages) {
    for (const std::optional<uint32_t> top :
         {std::optional<uint32_t>(), std::optional<uint32_t>(0), std::optional<uint32_t>(1),
          std::optional<uint32_t>(2), std::optional<uint32_t>(10)}) {
      const std::string whole = written(m, top, {});
      if (top) {
        EXPECT_EQ(whole, multiline(top_of_message(m, *top)));
      } else {
        EXPECT_EQ(whole, multiline(m));
      }
      for (size_t i = 0; i <= m.size(); ++i) {
        for (size_t j = i; j <= m.size(); ++j) {
          ASSERT_EQ(written(m, top, {i, j}), whole)
              << testing::PrintToString(std::string(m)) << " split at " << i << "," << j;
        }
      }
    }
  }
}

TEST(Pop3MessageTest, TopStopsReadingOnceComplete) {
  TopCut cut(1);
  EXPECT_EQ(cut.keep("Subject: x\r"), 11u);
  EXPECT_EQ(cut.keep("\n\r"), 2u);
  EXPECT_FALSE(cut.done());
  EXPECT_EQ(cut.keep("\nbody 1\r\nbody 2\r\n"), 9u);
  EXPECT_TRUE(cut.done());
  EXPECT_EQ(cut.keep("more"), 0u);
}

}  // namespace
}  // namespace rm::pop3
