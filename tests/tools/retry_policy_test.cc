// The retry schedule: from the initial delay, doubling, capped; expiry after the lifetime.
#include "tools/ringmaild/delivery/retry_policy.h"

#include <gtest/gtest.h>

#include "tools/ringmaild/delivery/ownership.h"

namespace rm {
namespace {

TEST(RetryPolicyTest, DoublesFromTheInitialDelayUpToTheCap) {
  const RetryPolicy p = RetryPolicy::from(QueueOptions{});
  EXPECT_EQ(p.delay_ms(1), 5 * 60 * 1000);
  EXPECT_EQ(p.delay_ms(2), 10 * 60 * 1000);
  EXPECT_EQ(p.delay_ms(3), 20 * 60 * 1000);
  EXPECT_EQ(p.delay_ms(6), 160 * 60 * 1000);
  EXPECT_EQ(p.delay_ms(7), 4 * 60 * 60 * 1000);  // 320 min, capped at 4 h
  EXPECT_EQ(p.delay_ms(1000), 4 * 60 * 60 * 1000);
}

TEST(RetryPolicyTest, ExpiresAfterTheLifetime) {
  const RetryPolicy p = RetryPolicy::from(QueueOptions{});
  const int64_t received = 1700000000000;
  EXPECT_FALSE(p.expired(received, received + 5LL * 86400 * 1000 - 1));
  EXPECT_TRUE(p.expired(received, received + 5LL * 86400 * 1000));
}

TEST(OwnershipTest, StableAndInRange) {
  EXPECT_EQ(stable_hash("alice@example.org"), stable_hash("alice@example.org"));
  for (int shards : {1, 2, 7}) {
    const int owner = account_owner("bob@example.org", shards);
    EXPECT_GE(owner, 0);
    EXPECT_LT(owner, shards);
  }
  EXPECT_EQ(message_owner(QueueId{(uint64_t{5} << 8) | 3}, 2), 1);
}

}  // namespace
}  // namespace rm
