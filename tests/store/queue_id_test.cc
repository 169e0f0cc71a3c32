// QueueId: text and key forms, and the generator's uniqueness and order.
#include "store/queue/queue_id.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

namespace rm {
namespace {

TEST(QueueIdTest, TextAndKeyRoundTrip) {
  const QueueId id{0x0123456789ABCDEFull};
  EXPECT_EQ(id.text(), "0123456789ABCDEF");
  EXPECT_EQ(parse_queue_id("0123456789ABCDEF"), id);
  EXPECT_EQ(parse_queue_id("0123456789abcdef"), id);
  EXPECT_EQ(id.key(), std::string("\x01\x23\x45\x67\x89\xAB\xCD\xEF", 8));
  EXPECT_EQ(queue_id_from_key(id.key()), id);
  EXPECT_EQ(queue_id_from_key(id.key() + "tail"), id);
  EXPECT_EQ(id.shard(), 0xEF);
  EXPECT_EQ(id.unix_us(), 0x0123456789ABCDll);
}

TEST(QueueIdTest, ParseRefusesMalformedText) {
  EXPECT_FALSE(parse_queue_id(""));
  EXPECT_FALSE(parse_queue_id("0123456789ABCDE"));
  EXPECT_FALSE(parse_queue_id("0123456789ABCDEF0"));
  EXPECT_FALSE(parse_queue_id("0123456789ABCDEG"));
  EXPECT_FALSE(parse_queue_id(" 123456789ABCDEF"));
  EXPECT_FALSE(queue_id_from_key("short"));
}

TEST(QueueIdTest, TextAndKeySortLikeTheValue) {
  const std::vector<uint64_t> values = {0,    1, 0xff, 0x100, 0xfffffffffull, 0x8000000000000000ull,
                                        ~0ull};
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    const QueueId a{values[i]}, b{values[i + 1]};
    EXPECT_LT(a, b);
    EXPECT_LT(a.text(), b.text());
    EXPECT_LT(a.key(), b.key());
  }
}

TEST(QueueIdTest, GeneratorIsStrictlyIncreasingWhenTheClockStandsStillOrStepsBack) {
  QueueIdGenerator gen(3);
  std::vector<QueueId> ids;
  ids.push_back(gen.next_at(1000));
  ids.push_back(gen.next_at(1000));
  ids.push_back(gen.next_at(1000));
  ids.push_back(gen.next_at(500));  // the clock stepped back
  ids.push_back(gen.next_at(2000));
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_LT(ids[i], ids[i + 1]);
  }
  for (const QueueId& id : ids) {
    EXPECT_EQ(id.shard(), 3);
  }
  EXPECT_EQ(ids[0].unix_us(), 1000);
  EXPECT_EQ(ids[4].unix_us(), 2000);
}

TEST(QueueIdTest, RealClockIdsAreUniqueAndOrdered) {
  QueueIdGenerator gen(0);
  std::vector<QueueId> ids;
  for (int i = 0; i < 100000; ++i) {
    ids.push_back(gen.next());
  }
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  // Roughly now: after 2020, before 2100.
  EXPECT_GT(ids.front().unix_us(), 1577836800LL * 1000000);
  EXPECT_LT(ids.back().unix_us(), 4102444800LL * 1000000);
}

TEST(QueueIdTest, TwoShardsNeverCollideAndSortByTime) {
  QueueIdGenerator a(1), b(2);
  std::set<QueueId> all;
  for (int i = 0; i < 1000; ++i) {
    const int64_t now = 5000 + i / 3;  // several ids per microsecond
    EXPECT_TRUE(all.insert(a.next_at(now)).second);
    EXPECT_TRUE(all.insert(b.next_at(now)).second);
  }
  EXPECT_EQ(all.size(), 2000u);
  const QueueId early = b.next_at(1);  // b's clock is ahead by now
  const QueueId later = a.next_at(100000);
  EXPECT_LT(early, later);
}

TEST(QueueIdTest, AdvancePastSkipsOverAnOlderRun) {
  QueueIdGenerator gen(0);
  gen.advance_past(QueueId{(uint64_t{9000} << 8) | 5});
  EXPECT_EQ(gen.next_at(10).unix_us(), 9001);
}

}  // namespace
}  // namespace rm
