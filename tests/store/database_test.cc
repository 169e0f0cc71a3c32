// Database: families, reads and writes, scans, and data surviving a reopen.
#include "store/db/database.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/store/store_test_util.h"

namespace rm {
namespace {

using test::TempDir;

Status put(Database& db, Family family, const std::string& key, const std::string& value,
           bool sync = true) {
  rocksdb::WriteBatch batch;
  batch.Put(db.handle(family), key, value);
  return db.write(batch, sync);
}

std::vector<std::string> keys_with_prefix(Database& db, Family family, std::string_view prefix) {
  std::vector<std::string> keys;
  const Status status = db.scan_prefix(family, prefix, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  EXPECT_TRUE(status.ok()) << status.to_string();
  return keys;
}

TEST(DatabaseTest, PrefixSuccessor) {
  EXPECT_EQ(prefix_successor("abc"), "abd");
  EXPECT_EQ(prefix_successor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_successor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(prefix_successor(""), "");
}

TEST(DatabaseTest, FamiliesAreSeparateAndMissingKeysAreEmpty) {
  TempDir dir;
  Result<std::unique_ptr<Database>> db = Database::open(dir.sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  Database& d = **db;
  ASSERT_TRUE(put(d, Family::kQueue, "k", "queue-value").ok());
  ASSERT_TRUE(put(d, Family::kAccount, "k", "account-value", false).ok());
  EXPECT_EQ(d.get(Family::kQueue, "k")->value(), "queue-value");
  EXPECT_EQ(d.get(Family::kAccount, "k")->value(), "account-value");
  EXPECT_FALSE(d.get(Family::kMailbox, "k")->has_value());
  EXPECT_FALSE(d.get(Family::kQueue, "missing")->has_value());
  EXPECT_EQ(family_name(Family::kBlob), "blob");
}

TEST(DatabaseTest, ReopenKeepsDataIncludingBlobValues) {
  TempDir dir;
  const std::string big(100000, 'B');
  {
    Result<std::unique_ptr<Database>> db = Database::open(dir.sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    ASSERT_TRUE(put(**db, Family::kBlob, "big", big).ok());
    ASSERT_TRUE(put(**db, Family::kBlob, "small", "tiny").ok());
    ASSERT_TRUE(put(**db, Family::kQueue, "q", "v", false).ok());
    EXPECT_TRUE((*db)->close().ok());
    EXPECT_TRUE((*db)->close().ok());  // idempotent
  }
  Result<std::unique_ptr<Database>> db = Database::open(dir.sub("db"));
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  EXPECT_EQ((*db)->get(Family::kBlob, "big")->value(), big);
  EXPECT_EQ((*db)->get(Family::kBlob, "small")->value(), "tiny");
  EXPECT_EQ((*db)->get(Family::kQueue, "q")->value(), "v");
  // The large value went to a blob file.
  bool blob_file = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir.sub("db"))) {
    blob_file = blob_file || entry.path().extension() == ".blob";
  }
  EXPECT_TRUE(blob_file);
}

TEST(DatabaseTest, ScansListInKeyOrderWithinBounds) {
  TempDir dir;
  Result<std::unique_ptr<Database>> db = Database::open(dir.sub("db"));
  ASSERT_TRUE(db.ok());
  for (const char* key : {"b2", "a1", "b1", "b\xff", "c", "b3"}) {
    ASSERT_TRUE(put(**db, Family::kMailbox, key, "x", false).ok());
  }
  EXPECT_EQ(keys_with_prefix(**db, Family::kMailbox, "b"),
            (std::vector<std::string>{"b1", "b2", "b3", "b\xff"}));
  EXPECT_EQ(keys_with_prefix(**db, Family::kMailbox, "").size(), 6u);
  std::vector<std::string> range;
  ASSERT_TRUE((*db)
                  ->scan(Family::kMailbox, "a2", "b3",
                         [&](std::string_view k, std::string_view) {
                           range.emplace_back(k);
                           return range.size() < 10;
                         })
                  .ok());
  EXPECT_EQ(range, (std::vector<std::string>{"b1", "b2"}));
  int visited = 0;
  ASSERT_TRUE((*db)
                  ->scan(Family::kMailbox, "", "",
                         [&](std::string_view, std::string_view) { return ++visited < 2; })
                  .ok());
  EXPECT_EQ(visited, 2);
}

TEST(DatabaseTest, OpenFailsCleanlyWhereNoDatabaseCanBe) {
  TempDir dir;
  std::ofstream(dir.sub("file")) << "not a directory";
  Result<std::unique_ptr<Database>> db = Database::open(dir.sub("file") + "/db");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kIoError) << db.status().to_string();
  EXPECT_NE(db.status().message().find("rocksdb"), std::string_view::npos);
}

}  // namespace
}  // namespace rm
