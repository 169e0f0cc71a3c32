// The directory in a real RocksDB: aliases and delivery specs round trip through
// load_directory, and their limits and formats are enforced.
#include "store/account/directory.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/store/store_test_util.h"

namespace rm {
namespace {

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Database>> db = Database::open(dir_.sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
    ASSERT_TRUE(add_domain(*db_, "example.org").ok());
  }

  test::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DirectoryTest, AliasesAndDeliveriesRoundTrip) {
  ASSERT_TRUE(put_alias(*db_, "team@example.org", {"a@example.org", "b@elsewhere.net"}).ok());
  ASSERT_TRUE(put_alias(*db_, "@example.org", {"a@example.org"}).ok());
  ASSERT_TRUE(put_delivery(*db_, "a@example.org", "maildir:/srv/%d/%u").ok());
  const std::shared_ptr<const Directory> dir = load_directory(*db_).value();
  EXPECT_EQ(dir->aliases.at("team@example.org"),
            (std::vector<std::string>{"a@example.org", "b@elsewhere.net"}));
  EXPECT_EQ(dir->aliases.at("@example.org"), std::vector<std::string>{"a@example.org"});
  EXPECT_EQ(dir->deliveries.at("a@example.org"), "maildir:/srv/%d/%u");
  ASSERT_TRUE(put_delivery(*db_, "a@example.org", "store").ok());  // back to the default
  ASSERT_TRUE(delete_alias(*db_, "team@example.org").ok());
  const std::shared_ptr<const Directory> after = load_directory(*db_).value();
  EXPECT_EQ(after->deliveries.count("a@example.org"), 0u);
  EXPECT_EQ(after->aliases.count("team@example.org"), 0u);
  EXPECT_EQ(delete_alias(*db_, "team@example.org").code(), StatusCode::kNotFound);
}

TEST_F(DirectoryTest, LimitsAndFormatsAreEnforced) {
  std::vector<std::string> targets(1001, "x@example.org");
  EXPECT_EQ(put_alias(*db_, "many@example.org", targets).code(), StatusCode::kInvalidArgument);
  targets.resize(1000);
  EXPECT_TRUE(put_alias(*db_, "many@example.org", targets).ok());
  EXPECT_EQ(put_alias(*db_, "a@example.org", {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(put_alias(*db_, "a@example.org", {"not an address"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(put_alias(*db_, "a@unknown.test", {"b@example.org"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(put_delivery(*db_, "a@example.org", "maildir:relative/path").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(put_delivery(*db_, "a@example.org", "pipe:/bin/sh").code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rm
