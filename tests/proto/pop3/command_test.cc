#include "proto/pop3/command.h"

#include <gtest/gtest.h>

namespace rm::pop3 {
namespace {

TEST(Pop3CommandTest, TableIsIndexedByVerb) {
  for (const VerbInfo& info : verbs()) {
    EXPECT_EQ(&verb_info(info.verb), &info) << info.name;
    EXPECT_LE(info.args_min, info.args_max);
    EXPECT_LE(info.args_max, kArgumentsMax);
  }
}

TEST(Pop3CommandTest, KeywordsAreCaseInsensitive) {
  const ParseResult r = parse_command("tOp 1 10", 40);
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->verb, Verb::kTop);
  EXPECT_EQ(r.command->arg_count, 2u);
  EXPECT_EQ(r.command->arg(0), "1");
  EXPECT_EQ(r.command->arg(1), "10");
  EXPECT_EQ(r.command->arg(2), "");
}

TEST(Pop3CommandTest, UnknownAndApop) {
  EXPECT_FALSE(parse_command("APOP mrose c4c9334bac560ecc979e58001b3e22fb", 40).command);
  EXPECT_FALSE(parse_command("", 40).command);
  EXPECT_FALSE(parse_command(" STAT", 40).command);
  EXPECT_FALSE(parse_command("STATX", 40).command);
  EXPECT_EQ(parse_command("XTND", 40).error, ParseError::kUnknownCommand);
}

TEST(Pop3CommandTest, ArgumentCounts) {
  EXPECT_EQ(parse_command("RETR", 40).error, ParseError::kBadArguments);
  EXPECT_EQ(parse_command("RETR 1 2", 40).error, ParseError::kBadArguments);
  EXPECT_EQ(parse_command("STAT 1", 40).error, ParseError::kBadArguments);
  EXPECT_TRUE(parse_command("LIST", 40).command);
  EXPECT_TRUE(parse_command("LIST 3  ", 40).command);  // trailing spaces are no argument
  EXPECT_TRUE(parse_command("LIST  3", 40).command);
}

TEST(Pop3CommandTest, PassTakesTheRestOfTheLine) {
  const ParseResult r = parse_command("PASS  two  spaces ", 40);
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->arg_count, 1u);
  EXPECT_EQ(r.command->arg(0), " two  spaces ");
  EXPECT_EQ(parse_command("PASS", 40).error, ParseError::kBadArguments);
  EXPECT_EQ(parse_command("PASS ", 40).error, ParseError::kBadArguments);
}

TEST(Pop3CommandTest, ArgumentLength) {
  EXPECT_TRUE(parse_command("USER " + std::string(40, 'a'), 40).command);
  EXPECT_EQ(parse_command("USER " + std::string(41, 'a'), 40).error, ParseError::kArgumentTooLong);
  EXPECT_EQ(parse_command("PASS " + std::string(41, 'a'), 40).error, ParseError::kArgumentTooLong);
  // AUTH's initial response is bounded by the line only; its mechanism is not.
  EXPECT_TRUE(parse_command("AUTH PLAIN " + std::string(200, 'A'), 40).command);
  EXPECT_EQ(parse_command("AUTH " + std::string(41, 'A'), 40).error, ParseError::kArgumentTooLong);
}

TEST(Pop3CommandTest, Numbers) {
  EXPECT_EQ(parse_number("0"), 0u);
  EXPECT_EQ(parse_number("007"), 7u);
  EXPECT_EQ(parse_number("999999999"), 999999999u);
  EXPECT_FALSE(parse_number("1000000000"));
  EXPECT_FALSE(parse_number(""));
  EXPECT_FALSE(parse_number("-1"));
  EXPECT_FALSE(parse_number("+1"));
  EXPECT_FALSE(parse_number("1a"));
  EXPECT_FALSE(parse_number(" 1"));
}

}  // namespace
}  // namespace rm::pop3
