// LoginCache: which repeated logins may skip Argon2id, and that it stays bounded.
#include "tools/ringmaild/access/login_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace rm {
namespace {

constexpr int64_t kNow = 1000000;

TEST(LoginCacheTest, ARememberedLoginIsFreshUntilItsTtl) {
  LoginCache cache(60000);
  EXPECT_FALSE(cache.fresh("bob@example.org", "pw", "$argon2id$h1", kNow));
  cache.remember("bob@example.org", "pw", "$argon2id$h1", kNow);
  EXPECT_TRUE(cache.fresh("bob@example.org", "pw", "$argon2id$h1", kNow + 59999));
  EXPECT_FALSE(cache.fresh("bob@example.org", "pw", "$argon2id$h1", kNow + 60000));
}

TEST(LoginCacheTest, AnotherPasswordOrAChangedHashIsNotFresh) {
  LoginCache cache(60000);
  cache.remember("bob@example.org", "pw", "$argon2id$h1", kNow);
  EXPECT_FALSE(cache.fresh("bob@example.org", "wrong", "$argon2id$h1", kNow));
  EXPECT_FALSE(cache.fresh("bob@example.org", "pw", "$argon2id$h2", kNow));  // password changed
  EXPECT_FALSE(cache.fresh("alice@example.org", "pw", "$argon2id$h1", kNow));
  // The account and the password are kept apart: "a" + "b\0c" is not "a\0b" + "c".
  cache.remember("a", std::string("b\0c", 3), "h", kNow);
  EXPECT_FALSE(cache.fresh(std::string("a\0b", 3), "c", "h", kNow));
}

TEST(LoginCacheTest, ZeroTtlTurnsItOff) {
  LoginCache cache(0);
  cache.remember("bob@example.org", "pw", "h", kNow);
  EXPECT_FALSE(cache.fresh("bob@example.org", "pw", "h", kNow));
}

TEST(LoginCacheTest, ItHoldsAtMostItsCapAndDropsExpiredEntriesFirst) {
  LoginCache cache(1000, /*entries_max=*/4);
  cache.remember("old1", "pw", "h", kNow - 5000);  // expired by kNow
  cache.remember("old2", "pw", "h", kNow - 5000);
  cache.remember("live1", "pw", "h", kNow);
  cache.remember("live2", "pw", "h", kNow);
  cache.remember("live3", "pw", "h", kNow);  // full: the expired two go, the live stay
  EXPECT_TRUE(cache.fresh("live1", "pw", "h", kNow));
  EXPECT_TRUE(cache.fresh("live2", "pw", "h", kNow));
  EXPECT_TRUE(cache.fresh("live3", "pw", "h", kNow));
  cache.remember("live4", "pw", "h", kNow);
  // Full of live entries: the cache starts over rather than grow (a miss costs one Argon2id).
  for (int i = 0; i < 100; ++i) {
    cache.remember("user" + std::to_string(i), "pw", "h", kNow);
  }
  int fresh = 0;
  for (int i = 0; i < 100; ++i) {
    fresh += cache.fresh("user" + std::to_string(i), "pw", "h", kNow) ? 1 : 0;
  }
  EXPECT_LE(fresh, 4);
  EXPECT_TRUE(cache.fresh("user99", "pw", "h", kNow));  // the newest is always kept
}

}  // namespace
}  // namespace rm
