#include "core/base/spsc_queue.h"

#include <gtest/gtest.h>

#include <memory>
#include <thread>

namespace rm {
namespace {

TEST(SpscQueue, CapacityRoundsUpToAPowerOfTwo) {
  EXPECT_EQ(SpscQueue<int>(1).capacity(), 1u);
  EXPECT_EQ(SpscQueue<int>(5).capacity(), 8u);
  EXPECT_EQ(SpscQueue<int>(8).capacity(), 8u);
  EXPECT_EQ(SpscQueue<int>(4097).capacity(), 8192u);
}

TEST(SpscQueue, FifoUpToCapacityThenFull) {
  SpscQueue<int> queue(4);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.try_pop(), std::nullopt);
  for (int round = 0; round < 3; ++round) {  // wraps around the ring
    for (int i = 0; i < 4; ++i) {
      int value = round * 10 + i;
      ASSERT_TRUE(queue.try_push(value));
    }
    int extra = 99;
    EXPECT_FALSE(queue.try_push(extra));
    EXPECT_FALSE(queue.empty());
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(queue.try_pop(), round * 10 + i);
    }
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.try_pop(), std::nullopt);
  }
}

TEST(SpscQueue, FailedPushLeavesAMoveOnlyValueWithTheCaller) {
  SpscQueue<std::unique_ptr<int>> queue(1);
  auto first = std::make_unique<int>(1);
  auto second = std::make_unique<int>(2);
  ASSERT_TRUE(queue.try_push(first));
  EXPECT_EQ(first, nullptr);
  EXPECT_FALSE(queue.try_push(second));
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(*second, 2);
  std::optional<std::unique_ptr<int>> popped = queue.try_pop();
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(**popped, 1);
}

TEST(SpscQueue, TwoThreadsPassAMillionItemsInOrder) {
  constexpr uint64_t kItems = 1000000;
  SpscQueue<uint64_t> queue(64);
  std::thread producer([&queue] {
    for (uint64_t i = 0; i < kItems; ++i) {
      uint64_t value = i;
      while (!queue.try_push(value)) {
        std::this_thread::yield();
      }
    }
  });
  uint64_t expected = 0;
  bool in_order = true;
  while (expected < kItems) {
    std::optional<uint64_t> value = queue.try_pop();
    if (!value) {
      std::this_thread::yield();
      continue;
    }
    in_order = in_order && *value == expected;
    ++expected;
  }
  producer.join();
  EXPECT_TRUE(in_order);
  EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace rm
