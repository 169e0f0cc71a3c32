#include "proto/smtp/client/reply_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rm::smtp {
namespace {

struct Parsed {
  std::vector<ServerReply> replies;
  Status status;
};

// Feeds `input` in pieces of `step` bytes, as the network might deliver it.
Parsed parse(std::string_view input, size_t step = 1 << 20, ReplyLimits limits = {}) {
  ReplyParser parser(limits);
  Parsed p;
  for (size_t i = 0; i < input.size() && p.status.ok(); i += step) {
    p.status = parser.feed(input.substr(i, step), p.replies);
  }
  return p;
}

TEST(SmtpReplyParserTest, SingleLineWithEnhancedCode) {
  Parsed p = parse("250 2.1.5 Ok\r\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.replies.size(), 1u);
  EXPECT_EQ(p.replies[0].code, 250);
  EXPECT_EQ(p.replies[0].enhanced, "2.1.5");
  EXPECT_EQ(p.replies[0].lines, std::vector<std::string>{"Ok"});
  EXPECT_TRUE(p.replies[0].positive());
  EXPECT_EQ(p.replies[0].summary(), "250 2.1.5 Ok");
}

TEST(SmtpReplyParserTest, MultiLineKeepsTheEnhancedCodeOnce) {
  Parsed p = parse(
      "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
      "550-5.1.1 Please try double-checking the recipient's email\r\n"
      "550 5.1.1 address. x1si1.1 - gsmtp\r\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.replies.size(), 1u);
  const ServerReply& r = p.replies[0];
  EXPECT_EQ(r.code, 550);
  EXPECT_TRUE(r.permanent());
  EXPECT_EQ(r.enhanced, "5.1.1");
  ASSERT_EQ(r.lines.size(), 3u);
  EXPECT_EQ(r.lines[1], "Please try double-checking the recipient's email");
  EXPECT_EQ(r.lines[2], "address. x1si1.1 - gsmtp");
}

TEST(SmtpReplyParserTest, CodeOnlyAndEmptyTextLines) {
  Parsed p = parse("250\r\n250-\r\n250 \r\n354\r\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.replies.size(), 3u);
  EXPECT_EQ(p.replies[0].lines, std::vector<std::string>{""});
  EXPECT_EQ(p.replies[1].lines, (std::vector<std::string>{"", ""}));
  EXPECT_EQ(p.replies[2].code, 354);
  EXPECT_EQ(p.replies[2].summary(), "354");
}

TEST(SmtpReplyParserTest, EnhancedCodeOnlyWhenWellFormedAndOfTheSameClass) {
  EXPECT_EQ(parse("250 5.1.1 x\r\n").replies[0].enhanced, "");  // class differs from the code
  EXPECT_EQ(parse("250 5.1.1 x\r\n").replies[0].lines[0], "5.1.1 x");
  EXPECT_EQ(parse("250 2.1.5x\r\n").replies[0].enhanced, "");
  EXPECT_EQ(parse("250 2.1234.5 x\r\n").replies[0].enhanced, "");
  EXPECT_EQ(parse("250 2..5 x\r\n").replies[0].enhanced, "");
  EXPECT_EQ(parse("450 4.7.1\r\n").replies[0].enhanced, "4.7.1");
  EXPECT_EQ(parse("450 4.7.1\r\n").replies[0].lines[0], "");
  EXPECT_EQ(parse("250 2.123.456 x\r\n").replies[0].enhanced, "2.123.456");
}

TEST(SmtpReplyParserTest, BareLfIsTolerated) {
  Parsed p = parse("220 hi\n250-a\n250 b\r\n");
  ASSERT_TRUE(p.status.ok());
  ASSERT_EQ(p.replies.size(), 2u);
  EXPECT_EQ(p.replies[0].lines[0], "hi");
  EXPECT_EQ(p.replies[1].lines, (std::vector<std::string>{"a", "b"}));
}

TEST(SmtpReplyParserTest, SplitAtEveryByteGivesTheSameReplies) {
  const std::string input =
      "220 mx.example.org ESMTP\r\n250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
      "250 ENHANCEDSTATUSCODES\r\n250 2.1.0 Ok\r\n550 5.1.1 <x@y>: unknown\r\n354 go\n";
  const Parsed whole = parse(input);
  ASSERT_TRUE(whole.status.ok());
  ASSERT_EQ(whole.replies.size(), 5u);
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    ReplyParser parser;
    std::vector<ServerReply> replies;
    ASSERT_TRUE(parser.feed(input.substr(0, cut), replies).ok());
    ASSERT_TRUE(parser.feed(input.substr(cut), replies).ok());
    ASSERT_EQ(replies.size(), whole.replies.size()) << cut;
    for (size_t i = 0; i < replies.size(); ++i) {
      EXPECT_EQ(replies[i].summary(), whole.replies[i].summary()) << cut;
      EXPECT_EQ(replies[i].lines, whole.replies[i].lines) << cut;
    }
  }
  const Parsed bytes = parse(input, 1);
  ASSERT_TRUE(bytes.status.ok());
  EXPECT_EQ(bytes.replies.size(), whole.replies.size());
}

TEST(SmtpReplyParserTest, PartialAndReset) {
  ReplyParser parser;
  std::vector<ServerReply> replies;
  EXPECT_FALSE(parser.partial());
  ASSERT_TRUE(parser.feed("250-a\r\n250", replies).ok());
  EXPECT_TRUE(parser.partial());
  EXPECT_TRUE(replies.empty());
  parser.reset();
  EXPECT_FALSE(parser.partial());
  ASSERT_TRUE(parser.feed("220 b\r\n", replies).ok());
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].lines, std::vector<std::string>{"b"});
}

TEST(SmtpReplyParserTest, MalformedLinesAreErrors) {
  const char* bad[] = {
      "hello\r\n", "25\r\n", "2x0 a\r\n",          "250_a\r\n",  "150 a\r\n",
      "650 a\r\n", "\r\n",   "250-a\r\n251 b\r\n", " 250 a\r\n", "250-a\r\n\r\n",
  };
  for (const char* input : bad) {
    Parsed p = parse(input);
    EXPECT_FALSE(p.status.ok()) << testing::PrintToString(std::string(input));
    EXPECT_TRUE(p.replies.empty()) << input;
  }
}

TEST(SmtpReplyParserTest, ErrorsAreStickyAndKeepEarlierReplies) {
  ReplyParser parser;
  std::vector<ServerReply> replies;
  const Status s = parser.feed("250 ok\r\nbogus\r\n250 later\r\n", replies);
  EXPECT_FALSE(s.ok());
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].lines[0], "ok");
  EXPECT_FALSE(parser.feed("250 fine\r\n", replies).ok());
  EXPECT_EQ(replies.size(), 1u);
}

TEST(SmtpReplyParserTest, LineLengthLimit) {
  const std::string ok = "250 " + std::string(4092, 'a');  // 4096 bytes
  Parsed p = parse(ok + "\r\n", 1000);
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.replies.size(), 1u);
  EXPECT_FALSE(parse(ok + "a\r\n").status.ok());
  EXPECT_FALSE(parse(ok + "a\r\n", 7).status.ok());
  // Refused before its end arrives: the parser never holds more than the limit.
  ReplyParser parser;
  std::vector<ServerReply> replies;
  Status s;
  size_t fed = 0;
  while (s.ok() && fed < (1u << 20)) {
    s = parser.feed(std::string(512, 'x'), replies);
    fed += 512;
  }
  EXPECT_FALSE(s.ok());
  EXPECT_LE(fed, 4096u + 512u);
  ReplyLimits small{.line_bytes_max = 10, .lines_max = 1000};
  EXPECT_FALSE(parse("250 0123456789\r\n", 3, small).status.ok());
  EXPECT_TRUE(parse("250 012345\r\n", 3, small).status.ok());
}

TEST(SmtpReplyParserTest, LinesPerReplyLimit) {
  std::string many;
  for (int i = 0; i < 999; ++i) {
    many += "250-line\r\n";
  }
  Parsed p = parse(many + "250 end\r\n");
  ASSERT_TRUE(p.status.ok());
  EXPECT_EQ(p.replies[0].lines.size(), 1000u);
  EXPECT_FALSE(parse(many + "250-one too many\r\n250 end\r\n").status.ok());
}

}  // namespace
}  // namespace rm::smtp
