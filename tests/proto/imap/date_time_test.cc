#include "proto/imap/date_time.h"

#include <gtest/gtest.h>

#include "proto/imap/flags.h"
#include "proto/imap/response.h"

namespace rm::imap {
namespace {

TEST(ImapDateTimeTest, FormatsInternalDate) {
  // 1996-07-17 09:44:25 UTC.
  const int64_t t = 837596665;
  EXPECT_EQ(format_date_time(t, -420), "17-Jul-1996 02:44:25 -0700");
  EXPECT_EQ(format_date_time(t, 0), "17-Jul-1996 09:44:25 +0000");
  EXPECT_EQ(format_date_time(t, 330), "17-Jul-1996 15:14:25 +0530");
  EXPECT_EQ(format_date_time(0, 0), "01-Jan-1970 00:00:00 +0000");
}

TEST(ImapDateTimeTest, ParsesDateTime) {
  std::optional<ParsedDateTime> d = parse_date_time("17-Jul-1996 02:44:25 -0700");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->unix_s, 837596665);
  EXPECT_EQ(d->zone_minutes, -420);
  d = parse_date_time(" 7-Feb-1994 21:52:25 -0800");
  ASSERT_TRUE(d);
  EXPECT_EQ(format_date_time(d->unix_s, d->zone_minutes), "07-Feb-1994 21:52:25 -0800");
  EXPECT_TRUE(parse_date_time("7-feb-1994 21:52:25 +0000"));
  for (std::string_view bad :
       {"", "17-Jul-1996", "32-Jul-1996 02:44:25 -0700", "29-Feb-1997 00:00:00 +0000",
        "17-Jux-1996 02:44:25 -0700", "17-Jul-1996 24:00:00 -0700", "17-Jul-1996 02:44:25 0700",
        "17-Jul-1996 02:44:25 -07000", "17-Jul-96 02:44:25 -0700"}) {
    EXPECT_FALSE(parse_date_time(bad)) << bad;
  }
  EXPECT_TRUE(parse_date_time("29-Feb-2000 00:00:00 +0000"));
}

TEST(ImapDateTimeTest, ParsesDates) {
  EXPECT_EQ(parse_date("1-Jan-1970"), 0);
  EXPECT_EQ(parse_date("01-Feb-1970"), 31);
  EXPECT_EQ(parse_date("17-Jul-1996"), days_from_civil(1996, 7, 17));
  EXPECT_FALSE(parse_date("1-Feb-94"));
  EXPECT_FALSE(parse_date("001-Feb-1994"));
  EXPECT_FALSE(parse_date("1 Feb 1994"));
}

TEST(ImapDateTimeTest, DayOfInZone) {
  // 1996-07-17 23:30 UTC is the 18th east of UTC+00:30 and the 17th west of it.
  const int64_t t = int64_t{days_from_civil(1996, 7, 17)} * 86400 + 23 * 3600 + 30 * 60;
  EXPECT_EQ(day_of(t, 0), days_from_civil(1996, 7, 17));
  EXPECT_EQ(day_of(t, 60), days_from_civil(1996, 7, 18));
  EXPECT_EQ(day_of(-1, 0), -1);
}

TEST(ImapDateTimeTest, Rfc5322Day) {
  EXPECT_EQ(parse_rfc5322_day("Tue, 1 Jul 2003 10:52:37 +0200"), days_from_civil(2003, 7, 1));
  EXPECT_EQ(parse_rfc5322_day("1 Jul 2003 23:52:37 -1100"), days_from_civil(2003, 7, 1));
  EXPECT_EQ(parse_rfc5322_day(" (comment) Wed, 02 Jul 03 00:00 GMT"), days_from_civil(2003, 7, 2));
  EXPECT_EQ(parse_rfc5322_day("2 Jul 99 00:00 GMT"), days_from_civil(1999, 7, 2));
  EXPECT_FALSE(parse_rfc5322_day("yesterday"));
  EXPECT_FALSE(parse_rfc5322_day("31 Feb 2003"));
}

TEST(ImapResponseTest, QuotesOrLiterals) {
  std::string out;
  append_string(out, "hello");
  EXPECT_EQ(out, "\"hello\"");
  out.clear();
  append_string(out, "a\"b\\c");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\"");
  out.clear();
  append_string(out, "two\r\nlines");
  EXPECT_EQ(out, "{10}\r\ntwo\r\nlines");
  out.clear();
  append_string(out, std::string(kQuotedBytesMax + 1, 'x'));
  EXPECT_EQ(out.substr(0, 7), "{1025}\r");
  out.clear();
  append_string(out, "caf\xC3\xA9", /*utf8=*/false);
  EXPECT_EQ(out, "{5}\r\ncaf\xC3\xA9");
  out.clear();
  append_nstring(out, std::nullopt);
  out += ' ';
  append_astring(out, "INBOX");
  out += ' ';
  append_astring(out, "nil");
  out += ' ';
  append_astring(out, "My Box");
  out += ' ';
  append_astring(out, "");
  EXPECT_EQ(out, "NIL INBOX \"nil\" \"My Box\" \"\"");
}

TEST(ImapFlagsTest, FlagLists) {
  FlagList f;
  EXPECT_TRUE(add_flag(f, "\\seen"));
  EXPECT_TRUE(add_flag(f, "\\Deleted"));
  EXPECT_TRUE(add_flag(f, "$Forwarded"));
  EXPECT_TRUE(add_flag(f, "$forwarded"));  // duplicate, kept once
  EXPECT_FALSE(add_flag(f, "\\Recent"));
  EXPECT_FALSE(add_flag(f, "\\Unknown"));
  EXPECT_FALSE(add_flag(f, "bad]kw"));
  EXPECT_FALSE(add_flag(f, ""));
  std::string out;
  append_flag_list(out, f);
  EXPECT_EQ(out, "(\\Seen \\Deleted $Forwarded)");
  EXPECT_EQ(system_flag_from_name("\\RECENT", true), kFlagRecent);
  FlagList many;
  for (size_t i = 0; i < kFlagsPerListMax; ++i) {
    ASSERT_TRUE(add_flag(many, "k" + std::to_string(i)));
  }
  EXPECT_FALSE(add_flag(many, "one-more"));
}

}  // namespace
}  // namespace rm::imap
