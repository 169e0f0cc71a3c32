#include "proto/imap/search.h"

#include <gtest/gtest.h>

#include <map>

#include "proto/imap/command.h"
#include "proto/imap/date_time.h"
#include "proto/imap/flags.h"

namespace rm::imap {
namespace {

class FakeMessage : public SearchSubject {
 public:
  uint32_t seq = 1;
  uint32_t uid_value = 100;
  uint32_t flags = 0;
  std::vector<std::string> keywords;
  uint64_t size_value = 1000;
  int64_t internal = 0;
  uint64_t modseq_value = 5;
  bool saved = false;
  std::map<std::string, std::vector<std::string>> headers;  // lower-case names
  std::string body = "Hello World";
  int expensive_calls = 0;

  uint32_t sequence_number() const override { return seq; }
  uint32_t uid() const override { return uid_value; }
  uint32_t system_flags() const override { return flags; }
  bool has_keyword(std::string_view k) const override {
    for (const std::string& kw : keywords) {
      if (keyword_equal(kw, k)) {
        return true;
      }
    }
    return false;
  }
  uint64_t size() const override { return size_value; }
  int64_t internal_date() const override { return internal; }
  uint64_t modseq() const override { return modseq_value; }
  bool in_saved_result() const override { return saved; }
  std::span<const std::string> header_values(std::string_view name) override {
    ++expensive_calls;
    std::string lower(name);
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    auto it = headers.find(lower);
    if (it == headers.end()) {
      return {};
    }
    return it->second;
  }
  std::string_view body_text() override {
    ++expensive_calls;
    return body;
  }
  std::string_view full_text() override {
    ++expensive_calls;
    full = "";
    for (const auto& [name, values] : headers) {
      for (const std::string& v : values) {
        full += name + ": " + v + "\r\n";
      }
    }
    full += "\r\n" + body;
    return full;
  }

 private:
  std::string full;
};

class ImapSearchTest : public ::testing::Test {
 protected:
  bool matches(std::string_view program) {
    ParseResult r = parse_imap_command("t SEARCH " + std::string(program));
    EXPECT_TRUE(r.command) << program << ": " << r.error.text;
    if (!r.command) {
      return false;
    }
    const bool plain = search_matches(r.command->search.key, msg, context);
    prepare_search(r.command->search.key, context);
    const bool prepared = search_matches(r.command->search.key, msg, context);
    EXPECT_EQ(plain, prepared) << program;
    return plain;
  }

  FakeMessage msg;
  SearchContext context{.message_count = 10, .uid_max = 500, .zone_minutes = 0};
};

TEST_F(ImapSearchTest, FlagKeys) {
  msg.flags = kFlagSeen | kFlagFlagged;
  EXPECT_TRUE(matches("ALL"));
  EXPECT_TRUE(matches("SEEN"));
  EXPECT_TRUE(matches("FLAGGED"));
  EXPECT_FALSE(matches("UNSEEN"));
  EXPECT_FALSE(matches("ANSWERED"));
  EXPECT_TRUE(matches("UNANSWERED UNDELETED UNDRAFT"));
  EXPECT_FALSE(matches("DELETED"));
  EXPECT_FALSE(matches("DRAFT"));
  EXPECT_FALSE(matches("UNFLAGGED"));
  // rev1: NEW = RECENT UNSEEN, OLD = NOT RECENT.
  EXPECT_TRUE(matches("OLD"));
  EXPECT_FALSE(matches("RECENT"));
  msg.flags = kFlagRecent;
  EXPECT_TRUE(matches("NEW"));
  EXPECT_TRUE(matches("RECENT"));
  EXPECT_FALSE(matches("OLD"));
  msg.flags = kFlagRecent | kFlagSeen;
  EXPECT_FALSE(matches("NEW"));
}

TEST_F(ImapSearchTest, Keywords) {
  msg.keywords = {"$Junk"};
  EXPECT_TRUE(matches("KEYWORD $junk"));
  EXPECT_FALSE(matches("KEYWORD $Work"));
  EXPECT_TRUE(matches("UNKEYWORD $Work"));
  EXPECT_FALSE(matches("UNKEYWORD $Junk"));
}

TEST_F(ImapSearchTest, BooleanTruthTable) {
  for (uint32_t flags :
       {0u, uint32_t{kFlagSeen}, uint32_t{kFlagDeleted}, kFlagSeen | kFlagDeleted}) {
    msg.flags = flags;
    const bool seen = flags & kFlagSeen;
    const bool deleted = flags & kFlagDeleted;
    EXPECT_EQ(matches("SEEN DELETED"), seen && deleted);
    EXPECT_EQ(matches("OR SEEN DELETED"), seen || deleted);
    EXPECT_EQ(matches("NOT SEEN"), !seen);
    EXPECT_EQ(matches("NOT (SEEN DELETED)"), !(seen && deleted));
    EXPECT_EQ(matches("OR NOT SEEN (DELETED SEEN)"), !seen || (deleted && seen));
    EXPECT_EQ(matches("NOT NOT SEEN"), seen);
    EXPECT_EQ(matches("OR (SEEN) OR DELETED ANSWERED"), seen || deleted);
  }
}

TEST_F(ImapSearchTest, NumbersAndSets) {
  msg.seq = 3;
  msg.uid_value = 500;
  msg.size_value = 1000;
  msg.modseq_value = 7;
  EXPECT_TRUE(matches("3"));
  EXPECT_TRUE(matches("1:3"));
  EXPECT_TRUE(matches("5:2"));
  EXPECT_FALSE(matches("4:*"));
  EXPECT_TRUE(matches("UID *"));  // 500 is the largest UID
  EXPECT_TRUE(matches("UID 1:600"));
  EXPECT_FALSE(matches("UID 1:499"));
  EXPECT_TRUE(matches("LARGER 999"));
  EXPECT_FALSE(matches("LARGER 1000"));
  EXPECT_TRUE(matches("SMALLER 1001"));
  EXPECT_FALSE(matches("SMALLER 1000"));
  EXPECT_TRUE(matches("MODSEQ 7"));
  EXPECT_FALSE(matches("MODSEQ 8"));
  EXPECT_FALSE(matches("$"));
  msg.saved = true;
  EXPECT_TRUE(matches("$"));
  EXPECT_TRUE(matches("UID $"));
}

TEST_F(ImapSearchTest, InternalDatesUseTheServerZone) {
  // 1996-07-17 23:30 UTC.
  msg.internal = int64_t{days_from_civil(1996, 7, 17)} * 86400 + 23 * 3600 + 1800;
  EXPECT_TRUE(matches("ON 17-Jul-1996"));
  EXPECT_TRUE(matches("BEFORE 18-Jul-1996"));
  EXPECT_FALSE(matches("BEFORE 17-Jul-1996"));
  EXPECT_TRUE(matches("SINCE 17-Jul-1996"));
  EXPECT_FALSE(matches("SINCE 18-Jul-1996"));
  context.zone_minutes = 60;  // already the 18th there
  EXPECT_TRUE(matches("ON 18-Jul-1996"));
  EXPECT_TRUE(matches("SINCE 18-Jul-1996"));
  EXPECT_FALSE(matches("BEFORE 18-Jul-1996"));
}

TEST_F(ImapSearchTest, SentDatesUseTheHeaderZone) {
  // 23:30 on the 17th at -0700 is the 18th in UTC, but SENTON compares the written day.
  msg.headers["date"] = {"Wed, 17 Jul 1996 23:30:00 -0700"};
  msg.internal = int64_t{days_from_civil(2000, 1, 1)} * 86400;
  EXPECT_TRUE(matches("SENTON 17-Jul-1996"));
  EXPECT_FALSE(matches("SENTON 18-Jul-1996"));
  EXPECT_TRUE(matches("SENTBEFORE 18-Jul-1996"));
  EXPECT_TRUE(matches("SENTSINCE 17-Jul-1996"));
  EXPECT_FALSE(matches("SENTSINCE 18-Jul-1996"));
  // No usable Date header: the internal date stands in.
  msg.headers["date"] = {"garbage"};
  EXPECT_TRUE(matches("SENTON 1-Jan-2000"));
  msg.headers.erase("date");
  EXPECT_TRUE(matches("SENTON 1-Jan-2000"));
}

TEST_F(ImapSearchTest, StringsAreCaseInsensitiveSubstrings) {
  msg.headers["from"] = {"\"John Smith\" <john@example.org>"};
  msg.headers["subject"] = {"Re: \xC3\x89t\xC3\xA9 Plans"};  // "Été"
  msg.headers["x-spam"] = {""};
  msg.body = "Some BODY text with \xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82";  // Привет
  EXPECT_TRUE(matches("FROM smith"));
  EXPECT_TRUE(matches("FROM JOHN@EXAMPLE"));
  EXPECT_FALSE(matches("FROM alice"));
  EXPECT_FALSE(matches("TO john"));
  EXPECT_FALSE(matches("CC \"\""));                       // no Cc header at all
  EXPECT_TRUE(matches("SUBJECT \"\xC3\xA9t\xC3\xA9\""));  // folded: été
  EXPECT_TRUE(matches("SUBJECT plans"));
  EXPECT_TRUE(matches("HEADER X-SPAM \"\""));  // present, empty string matches
  EXPECT_FALSE(matches("HEADER X-Other \"\""));
  EXPECT_TRUE(matches("BODY \"body TEXT\""));
  EXPECT_TRUE(matches("BODY \xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"));  // привет
  EXPECT_FALSE(matches("BODY smith"));
  EXPECT_TRUE(matches("TEXT smith"));
  EXPECT_TRUE(matches("TEXT body"));
  EXPECT_FALSE(matches("TEXT absent"));
}

TEST_F(ImapSearchTest, CheapKeysGoFirst) {
  msg.flags = 0;
  msg.expensive_calls = 0;
  EXPECT_FALSE(matches("BODY hello SEEN"));
  EXPECT_EQ(msg.expensive_calls, 0);
  EXPECT_TRUE(matches("OR BODY hello UNSEEN"));
  EXPECT_EQ(msg.expensive_calls, 0);
  EXPECT_TRUE(matches("BODY hello UNSEEN"));
  EXPECT_EQ(msg.expensive_calls, 2);  // matches() evaluates twice: plain and prepared
}

TEST(ImapCaseFoldTest, Folding) {
  EXPECT_EQ(fold_case("ABC xyz 123"), "abc xyz 123");
  EXPECT_EQ(fold_case("\xC3\x89\xC3\x80"), "\xC3\xA9\xC3\xA0");  // ÉÀ -> éà
  EXPECT_EQ(fold_case("\xC3\x97"), "\xC3\x97");                  // × unchanged
  EXPECT_EQ(fold_case("\xCE\xA3\xCE\xA9"), "\xCF\x83\xCF\x89");  // ΣΩ -> σω
  EXPECT_EQ(fold_case("\xD0\x81\xD0\xAF"), "\xD1\x91\xD1\x8F");  // ЁЯ -> ёя
  EXPECT_EQ(fold_case("\xC4\x80\xC5\x81"), "\xC4\x81\xC5\x82");  // ĀŁ -> āł
  EXPECT_EQ(fold_case("\xFF\xC3"), "\xFF\xC3");                  // invalid kept
  EXPECT_TRUE(contains_folded("Hello WORLD", "o w"));
  EXPECT_FALSE(contains_folded("Hello", "hello!"));
  EXPECT_TRUE(contains_folded("", ""));
}

}  // namespace
}  // namespace rm::imap
