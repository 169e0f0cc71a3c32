#include "core/reactor/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace rm {
namespace {

constexpr int64_t kTick = 10;
constexpr int64_t kStart = 100000;
constexpr int64_t kTurnMs = int64_t{TimerWheel::kSlots} * kTick;

class TimerWheelTest : public ::testing::Test {
 protected:
  TimerWheelTest() : wheel_(kTick, kStart) {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].owner = 100 + i;
    }
  }

  std::vector<uint64_t> expire(int64_t now_ms) {
    std::vector<uint64_t> due;
    wheel_.expire(now_ms, due);
    return due;
  }

  TimerWheel wheel_;
  std::vector<TimerNode> nodes_ = std::vector<TimerNode>(8);
};

TEST_F(TimerWheelTest, ExpiresAtTheDeadlineNotBefore) {
  wheel_.schedule(nodes_[0], kStart + 50);
  EXPECT_EQ(wheel_.size(), 1u);
  EXPECT_EQ(wheel_.next_due_ms(), kStart + 50);
  EXPECT_TRUE(expire(kStart + 49).empty());
  EXPECT_EQ(expire(kStart + 50), std::vector<uint64_t>{100});
  EXPECT_EQ(wheel_.size(), 0u);
  EXPECT_FALSE(nodes_[0].linked());
  EXPECT_EQ(wheel_.next_due_ms(), std::nullopt);
  EXPECT_TRUE(expire(kStart + 1000).empty());
}

TEST_F(TimerWheelTest, RoundsDeadlinesUpToATick) {
  wheel_.schedule(nodes_[0], kStart + 21);
  EXPECT_TRUE(expire(kStart + 29).empty());
  EXPECT_EQ(expire(kStart + 30), std::vector<uint64_t>{100});
}

TEST_F(TimerWheelTest, ExpiresInDeadlineOrder) {
  const int64_t offsets[] = {70, 20, 50, 10, 40};
  for (size_t i = 0; i < 5; ++i) {
    wheel_.schedule(nodes_[i], kStart + offsets[i]);
  }
  EXPECT_EQ(wheel_.next_due_ms(), kStart + 10);
  EXPECT_EQ(expire(kStart + 100), (std::vector<uint64_t>{103, 101, 104, 102, 100}));
}

TEST_F(TimerWheelTest, CancelAndReschedule) {
  wheel_.schedule(nodes_[0], kStart + 50);
  wheel_.schedule(nodes_[1], kStart + 50);
  wheel_.cancel(nodes_[0]);
  wheel_.cancel(nodes_[0]);  // twice: harmless
  wheel_.cancel(nodes_[2]);  // never scheduled: harmless
  EXPECT_EQ(wheel_.size(), 1u);

  wheel_.schedule(nodes_[1], kStart + 200);  // later
  wheel_.schedule(nodes_[3], kStart + 300);
  wheel_.schedule(nodes_[3], kStart + 30);  // earlier
  EXPECT_EQ(wheel_.size(), 2u);
  EXPECT_EQ(expire(kStart + 100), std::vector<uint64_t>{103});
  EXPECT_EQ(expire(kStart + 200), std::vector<uint64_t>{101});
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TimerWheelTest, DeadlinesBeyondOneTurnWaitForTheirTurn) {
  const int64_t far = kStart + 2 * kTurnMs + 30;  // lands in a slot visited twice before
  wheel_.schedule(nodes_[0], far);
  wheel_.schedule(nodes_[1], kStart + 40);
  for (int64_t now = kStart + kTick; now < far; now += kTick) {
    const std::vector<uint64_t> due = expire(now);
    if (now == kStart + 40) {
      EXPECT_EQ(due, std::vector<uint64_t>{101});
    } else {
      ASSERT_TRUE(due.empty()) << "at " << now - kStart << " ms";
    }
    ASSERT_LE(wheel_.next_due_ms().value(), far);  // early is allowed, late is not
  }
  EXPECT_EQ(expire(far), std::vector<uint64_t>{100});
  EXPECT_EQ(wheel_.size(), 0u);
}

TEST_F(TimerWheelTest, ALongStallExpiresEverythingDue) {
  wheel_.schedule(nodes_[0], kStart + 10);
  wheel_.schedule(nodes_[1], kStart + kTurnMs - 10);
  wheel_.schedule(nodes_[2], kStart + 3 * kTurnMs);
  wheel_.schedule(nodes_[3], kStart + 9 * kTurnMs);  // still in the future
  std::vector<uint64_t> due = expire(kStart + 5 * kTurnMs);
  std::sort(due.begin(), due.end());
  EXPECT_EQ(due, (std::vector<uint64_t>{100, 101, 102}));
  EXPECT_EQ(wheel_.size(), 1u);
  EXPECT_EQ(expire(kStart + 9 * kTurnMs), std::vector<uint64_t>{103});
}

TEST_F(TimerWheelTest, PastDeadlinesExpireAtTheNextTick) {
  expire(kStart + 500);
  wheel_.schedule(nodes_[0], kStart);        // already past
  wheel_.schedule(nodes_[1], kStart + 500);  // now
  EXPECT_EQ(wheel_.next_due_ms(), kStart + 510);
  EXPECT_TRUE(expire(kStart + 505).empty());
  EXPECT_EQ(expire(kStart + 510), (std::vector<uint64_t>{100, 101}));
}

TEST(TimerWheel, DestructionUnlinksNodesStillScheduled) {
  TimerNode node;
  {
    TimerWheel wheel(kTick, kStart);
    wheel.schedule(node, kStart + 100);
    EXPECT_TRUE(node.linked());
  }
  EXPECT_FALSE(node.linked());
}

}  // namespace
}  // namespace rm
