#include "proto/imap/sequence_set.h"

#include <gtest/gtest.h>

#include <vector>

namespace rm::imap {
namespace {

std::vector<uint32_t> expand(const ResolvedSet& r) {
  std::vector<uint32_t> out;
  for (uint32_t n : r) {
    out.push_back(n);
  }
  return out;
}

SequenceSet parse(std::string_view text) {
  std::optional<SequenceSet> s = parse_sequence_set(text);
  EXPECT_TRUE(s.has_value()) << text;
  return s.value_or(SequenceSet{});
}

TEST(ImapSequenceSetTest, ParsesRangesAndStar) {
  SequenceSet s = parse("1:4,7,10:*");
  ASSERT_EQ(s.ranges().size(), 3u);
  EXPECT_EQ(s.ranges()[0], (SequenceRange{1, 4}));
  EXPECT_EQ(s.ranges()[1], (SequenceRange{7, 7}));
  EXPECT_EQ(s.ranges()[2], (SequenceRange{10, kStar}));
  EXPECT_TRUE(parse("$").is_saved_result());
}

TEST(ImapSequenceSetTest, RefusesBadSyntax) {
  for (std::string_view bad :
       {"", "0", "1:0", ",1", "1,", "1::2", "a", "1:2:3", "4294967296", "-1", "1 2", "$,1", "**"}) {
    EXPECT_FALSE(parse_sequence_set(bad).has_value()) << bad;
  }
  EXPECT_TRUE(parse_sequence_set("4294967295").has_value());
}

TEST(ImapSequenceSetTest, ReversedRangesAndStar) {
  SequenceSet s = parse("5:2");
  EXPECT_EQ(expand(s.resolve(10)), (std::vector<uint32_t>{2, 3, 4, 5}));
  EXPECT_TRUE(s.contains(3, 10));
  EXPECT_FALSE(s.contains(6, 10));
  // "*:4" with 2 messages is "2:4" clipped to "2".
  SequenceSet star = parse("*:4");
  EXPECT_EQ(expand(star.resolve(2)), (std::vector<uint32_t>{2}));
  EXPECT_EQ(expand(star.resolve(6)), (std::vector<uint32_t>{4, 5, 6}));
  EXPECT_EQ(expand(parse("*").resolve(7)), (std::vector<uint32_t>{7}));
}

TEST(ImapSequenceSetTest, EmptyMailbox) {
  for (std::string_view text : {"*", "*:4", "1:*", "1"}) {
    SequenceSet s = parse(text);
    EXPECT_TRUE(s.resolve(0).empty()) << text;
    EXPECT_FALSE(s.contains(1, 0)) << text;
  }
  EXPECT_FALSE(parse("1").within(0));
  EXPECT_TRUE(parse("*").within(0));
}

TEST(ImapSequenceSetTest, MergesOverlapsAndIteratesInOrder) {
  SequenceSet s = parse("9,1:3,2:5,7,8,20:*");
  ResolvedSet r = s.resolve(21);
  ASSERT_EQ(r.ranges().size(), 3u);
  EXPECT_EQ(r.ranges()[0], (ResolvedSet::Range{1, 5}));
  EXPECT_EQ(r.ranges()[1], (ResolvedSet::Range{7, 9}));
  EXPECT_EQ(r.ranges()[2], (ResolvedSet::Range{20, 21}));
  EXPECT_EQ(r.count(), 10u);
  EXPECT_EQ(expand(r), (std::vector<uint32_t>{1, 2, 3, 4, 5, 7, 8, 9, 20, 21}));
  EXPECT_TRUE(r.contains(8));
  EXPECT_FALSE(r.contains(6));
  EXPECT_FALSE(r.contains(22));
  EXPECT_FALSE(r.contains(0));
}

TEST(ImapSequenceSetTest, HugeRangeIsNeverExpanded) {
  SequenceSet s = parse("1:4294967295");
  ResolvedSet r = s.resolve(4294967295u);
  EXPECT_EQ(r.ranges().size(), 1u);
  EXPECT_EQ(r.count(), 4294967295ull);
  EXPECT_TRUE(r.contains(4294967295u));
  // Clipped to the mailbox.
  EXPECT_EQ(s.resolve(3).count(), 3u);
  EXPECT_FALSE(s.within(3));
  // Iterating to the last value ends.
  ResolvedSet top = parse("4294967294:4294967295").resolve(4294967295u);
  EXPECT_EQ(expand(top), (std::vector<uint32_t>{4294967294u, 4294967295u}));
}

TEST(ImapSequenceSetTest, FetchAllOnALargeMailboxIsOneRange) {
  ResolvedSet r = parse("1:*").resolve(10000);
  ASSERT_EQ(r.ranges().size(), 1u);
  uint64_t sum = 0, count = 0;
  for (uint32_t n : r) {
    sum += n;
    ++count;
  }
  EXPECT_EQ(count, 10000u);
  EXPECT_EQ(sum, 10000ull * 10001 / 2);
}

TEST(ImapSequenceSetTest, FormatsCompactly) {
  const std::vector<uint32_t> uids = {1, 2, 3, 5, 7, 8, 4294967295u};
  EXPECT_EQ(format_sequence_set(uids), "1:3,5,7:8,4294967295");
  EXPECT_EQ(format_sequence_set(std::vector<uint32_t>{}), "");
  EXPECT_EQ(format_sequence_set(std::vector<uint32_t>{42}), "42");
}

TEST(ImapSequenceSetTest, TooManyRanges) {
  std::string text;
  for (size_t i = 0; i <= kSequenceRangesMax; ++i) {
    text += (i ? ",1" : "1");
  }
  EXPECT_FALSE(parse_sequence_set(text).has_value());
}

}  // namespace
}  // namespace rm::imap
