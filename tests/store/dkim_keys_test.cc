// DKIM signing keys in a real RocksDB: put/list/delete round trip, both algorithms per
// domain, replacing a selector, and the name, size and count limits.
#include "store/account/dkim_keys.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "store/account/directory.h"
#include "tests/store/store_test_util.h"

namespace rm {
namespace {

class DkimKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Database>> db = Database::open(dir_.sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
  }

  test::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DkimKeysTest, PutListDelete) {
  EXPECT_TRUE(load_dkim_keys(*db_).value().empty());
  ASSERT_TRUE(put_dkim_key(*db_, {"example.org", "rsa1", KeyType::kRsa, "PEM-A"}).ok());
  ASSERT_TRUE(put_dkim_key(*db_, {"example.org", "ed1", KeyType::kEd25519, "PEM-B"}).ok());
  ASSERT_TRUE(put_dkim_key(*db_, {"other.net", "s", KeyType::kRsa, "PEM-C"}).ok());
  DkimKeySet set = load_dkim_keys(*db_).value();
  ASSERT_EQ(set.keys.size(), 3u);
  const auto mine = set.for_domain("example.org");
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0]->selector, "ed1");
  EXPECT_EQ(mine[0]->type, KeyType::kEd25519);
  EXPECT_EQ(mine[0]->private_pem, "PEM-B");
  EXPECT_EQ(mine[1]->selector, "rsa1");
  EXPECT_EQ(mine[1]->type, KeyType::kRsa);
  EXPECT_TRUE(set.for_domain("sub.example.org").empty());

  ASSERT_TRUE(put_dkim_key(*db_, {"example.org", "rsa1", KeyType::kRsa, "PEM-NEW"}).ok());
  set = load_dkim_keys(*db_).value();
  EXPECT_EQ(set.for_domain("example.org")[1]->private_pem, "PEM-NEW");

  ASSERT_TRUE(delete_dkim_key(*db_, "example.org", "rsa1").ok());
  EXPECT_EQ(delete_dkim_key(*db_, "example.org", "rsa1").code(), StatusCode::kNotFound);
  set = load_dkim_keys(*db_).value();
  ASSERT_EQ(set.keys.size(), 2u);
  EXPECT_EQ(set.for_domain("example.org").size(), 1u);
}

TEST_F(DkimKeysTest, KeysDoNotMixWithTheDirectory) {
  ASSERT_TRUE(add_domain(*db_, "example.org").ok());
  ASSERT_TRUE(put_dkim_key(*db_, {"example.org", "s", KeyType::kRsa, "PEM"}).ok());
  const std::shared_ptr<const Directory> dir = load_directory(*db_).value();
  EXPECT_EQ(dir->domains.size(), 1u);
  EXPECT_TRUE(dir->users.empty());
  EXPECT_EQ(load_dkim_keys(*db_).value().keys.size(), 1u);
}

TEST_F(DkimKeysTest, Limits) {
  EXPECT_FALSE(put_dkim_key(*db_, {"Example.org", "s", KeyType::kRsa, "P"}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {"example..org", "s", KeyType::kRsa, "P"}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {"example.org", "", KeyType::kRsa, "P"}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {"example.org", "a/b", KeyType::kRsa, "P"}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {"example.org", std::string(64, 's'), KeyType::kRsa, "P"}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {std::string(254, 'a'), "s", KeyType::kRsa, "P"}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {"example.org", "s", KeyType::kRsa, ""}).ok());
  EXPECT_FALSE(put_dkim_key(*db_, {"example.org", "s", KeyType::kRsa,
                                   std::string(kDkimKeyPemBytesMax + 1, 'x')})
                   .ok());
  EXPECT_TRUE(put_dkim_key(*db_, {"example.org", "2026-11.mail", KeyType::kRsa, "P"}).ok());
  for (size_t i = 1; i < kDkimKeysPerDomainMax; ++i) {
    ASSERT_TRUE(
        put_dkim_key(*db_, {"example.org", "s" + std::to_string(i), KeyType::kRsa, "P"}).ok());
  }
  EXPECT_EQ(put_dkim_key(*db_, {"example.org", "one-more", KeyType::kRsa, "P"}).code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(put_dkim_key(*db_, {"example.org", "s1", KeyType::kEd25519, "P2"}).ok());  // replace
  EXPECT_TRUE(put_dkim_key(*db_, {"other.org", "s1", KeyType::kRsa, "P"}).ok());
}

}  // namespace
}  // namespace rm
