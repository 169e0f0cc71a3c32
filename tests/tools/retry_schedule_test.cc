// The queue manager's schedule: due order, rescheduling (the old time no longer counts),
// erasing, flush-all ids.
#include "tools/ringmaild/delivery/retry_schedule.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace rm {
namespace {

TEST(RetryScheduleTest, TakesDueIdsInTimeOrder) {
  RetrySchedule s;
  s.schedule(1, 300);
  s.schedule(2, 100);
  s.schedule(3, 200);
  EXPECT_EQ(s.next_due(), 100);
  EXPECT_EQ(s.take_due(250), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.next_due(), 300);
  EXPECT_TRUE(s.take_due(299).empty());
}

TEST(RetryScheduleTest, ReschedulingAndErasingOverrideEarlierEntries) {
  RetrySchedule s;
  s.schedule(1, 100);
  s.schedule(1, 500);  // a retry moved it later: the entry at 100 is stale
  s.schedule(2, 200);
  s.erase(2);
  EXPECT_EQ(s.next_due(), 500);
  EXPECT_TRUE(s.take_due(400).empty());
  EXPECT_EQ(s.take_due(500), std::vector<uint64_t>{1});
  EXPECT_FALSE(s.next_due().has_value());
  s.schedule(7, 900);
  s.schedule(8, 50);
  std::vector<uint64_t> ids = s.ids();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<uint64_t>{7, 8}));
  EXPECT_TRUE(s.contains(7));
}

}  // namespace
}  // namespace rm
