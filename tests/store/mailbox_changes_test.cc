// MailboxStore's IMAP/POP3 changes on a real RocksDB and real segment files: flags with
// MODSEQs and UNCHANGEDSINCE, APPEND (inline and in segment files), COPY and MOVE sharing
// bodies, mailbox create/rename/delete, subscriptions, and what survives a reopen.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "store/mailbox/mailbox_store.h"
#include "store/queue/queue_store.h"
#include "tests/store/store_test_util.h"

namespace rm {
namespace {

using test::TempDir;

constexpr int64_t kNow = 1700000000000;
constexpr std::string_view kAlice = "alice@example.org";

class MailboxChangesTest : public ::testing::Test {
 protected:
  void SetUp() override { open(); }

  void open() {
    Result<std::unique_ptr<Database>> db = Database::open(dir_.sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
    Result<std::unique_ptr<BodyStore>> bodies = BodyStore::open(dir_.sub("bodies"));
    ASSERT_TRUE(bodies.ok());
    bodies_ = std::move(bodies).value();
    Result<std::unordered_map<uint64_t, uint64_t>> refs = MailboxStore::segment_refs(*db_);
    ASSERT_TRUE(refs.ok());
    ASSERT_TRUE(QueueStore::recover(*db_, *bodies_, *refs).ok());
    writer_ = std::make_unique<AppendWriter>(*bodies_, 1 << 20);
  }

  void reopen() {
    writer_.reset();
    bodies_.reset();
    ASSERT_TRUE(db_->close().ok());
    open();
  }

  uint32_t append(std::string_view mailbox, const std::string& body, uint8_t flags = 0) {
    auto r = MailboxStore::append(*db_, *bodies_, *writer_, kAlice, mailbox, body, flags, {}, kNow);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r->first.uid : 0;
  }

  MailboxInfo info(std::string_view mailbox) {
    auto r = MailboxStore::mailbox(*db_, kAlice, mailbox);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : MailboxInfo{};
  }

  std::string body_of(std::string_view mailbox, uint32_t uid) {
    auto e = MailboxStore::entry(*db_, kAlice, info(mailbox), uid);
    EXPECT_TRUE(e.ok() && e->has_value());
    auto body = MailboxStore::read_body(*bodies_, **e);
    EXPECT_TRUE(body.ok());
    return body.ok() ? *body : std::string();
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<BodyStore> bodies_;
  std::unique_ptr<AppendWriter> writer_;
};

TEST_F(MailboxChangesTest, AppendKeepsSmallBodiesInlineAndLargeOnesInSegments) {
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "INBOX", 0, kNow).ok());
  const std::string small = "Subject: small\r\n\r\nhi\r\n";
  const std::string large = "Subject: large\r\n\r\n" + std::string(100000, 'x') + "\r\n";
  EXPECT_EQ(append("INBOX", small, kFlagSeen), 1u);
  EXPECT_EQ(append("INBOX", large), 2u);
  EXPECT_EQ(bodies_->segment_count(), 1u);
  reopen();
  EXPECT_EQ(body_of("INBOX", 1), small);
  EXPECT_EQ(body_of("INBOX", 2), large);
  const MailboxInfo mb = info("INBOX");
  EXPECT_EQ(mb.messages, 2u);
  EXPECT_EQ(mb.uidnext, 3u);
  EXPECT_EQ(mb.bytes, small.size() + large.size());
}

TEST_F(MailboxChangesTest, AppendToAMissingMailboxIsNotFound) {
  auto r = MailboxStore::append(*db_, *bodies_, *writer_, kAlice, "Nope", "x", 0, {}, kNow);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST_F(MailboxChangesTest, FlagChangesGetNewModseqsAndHonourUnchangedSince) {
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "INBOX", 0, kNow).ok());
  append("INBOX", "a");
  append("INBOX", "b");
  FlagChange add{FlagMode::kAdd, kFlagFlagged, {"$Important"}, 0};
  auto r = MailboxStore::change_flags(*db_, kAlice, "INBOX", {1, 2, 99}, add);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->changed.size(), 2u);
  EXPECT_EQ(r->changed[0].flags, kFlagFlagged);
  EXPECT_EQ(r->changed[0].keywords, std::vector<std::string>{"$Important"});
  const uint64_t after = r->highest_modseq;
  EXPECT_GT(r->changed[1].modseq, r->changed[0].modseq);

  // Setting what is already set changes nothing and assigns no MODSEQ.
  auto same = MailboxStore::change_flags(*db_, kAlice, "INBOX", {1}, add);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->changed.empty());
  EXPECT_EQ(same->highest_modseq, after);

  // UNCHANGEDSINCE below a message's MODSEQ leaves it alone.
  FlagChange cond{FlagMode::kRemove, kFlagFlagged, {}, r->changed[0].modseq};
  auto c = MailboxStore::change_flags(*db_, kAlice, "INBOX", {1, 2}, cond);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->changed.size(), 1u);
  EXPECT_EQ(c->modified, std::vector<uint32_t>{2});

  reopen();
  auto entries = MailboxStore::messages(*db_, kAlice, "INBOX");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0].flags, 0);
  EXPECT_EQ((*entries)[1].flags, kFlagFlagged);
  EXPECT_EQ(info("INBOX").highest_modseq, c->highest_modseq);
}

TEST_F(MailboxChangesTest, CopySharesBodiesAndMoveRemovesTheSource) {
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "INBOX", 0, kNow).ok());
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "Archive", kUseArchive, kNow).ok());
  const std::string large = std::string(50000, 'y');
  append("INBOX", large);
  append("INBOX", "small");
  auto copy = MailboxStore::copy(*db_, *bodies_, kAlice, "INBOX", "Archive", {1, 2}, false);
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->source_uids, (std::vector<uint32_t>{1, 2}));
  ASSERT_EQ(copy->copies.size(), 2u);
  EXPECT_EQ(copy->copies[0].uid, 1u);
  EXPECT_EQ(copy->uidvalidity, info("Archive").uidvalidity);

  auto move = MailboxStore::copy(*db_, *bodies_, kAlice, "INBOX", "Archive", {1}, true);
  ASSERT_TRUE(move.ok());
  EXPECT_EQ(move->copies[0].uid, 3u);
  EXPECT_EQ(info("INBOX").messages, 1u);
  EXPECT_EQ(info("Archive").messages, 3u);
  reopen();
  EXPECT_EQ(body_of("Archive", 1), large);
  EXPECT_EQ(body_of("Archive", 3), large);
  auto missing = MailboxStore::copy(*db_, *bodies_, kAlice, "INBOX", "Nope", {2}, false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(MailboxChangesTest, CreateRenameDeleteAndSubscriptions) {
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "INBOX", 0, kNow).ok());
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "Work", 0, kNow).ok());
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "Work/2026", 0, kNow).ok());
  EXPECT_EQ(MailboxStore::create_mailbox(*db_, kAlice, "Work", 0, kNow).code(),
            StatusCode::kAlreadyExists);
  append("Work/2026", "report");
  ASSERT_TRUE(MailboxStore::rename_mailbox(*db_, kAlice, "Work", "Jobs", kNow).ok());
  auto names = MailboxStore::mailbox_names(*db_, kAlice);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"INBOX", "Jobs", "Jobs/2026"}));
  EXPECT_EQ(body_of("Jobs/2026", 1), "report");

  // Renaming INBOX moves its messages and leaves a new, empty INBOX.
  append("INBOX", "old mail");
  const uint32_t old_validity = info("INBOX").uidvalidity;
  ASSERT_TRUE(MailboxStore::rename_mailbox(*db_, kAlice, "INBOX", "Old", kNow + 5000).ok());
  EXPECT_EQ(info("INBOX").messages, 0u);
  EXPECT_NE(info("INBOX").id, info("Old").id);
  EXPECT_EQ(info("Old").uidvalidity, old_validity);
  EXPECT_EQ(body_of("Old", 1), "old mail");

  ASSERT_TRUE(MailboxStore::delete_mailbox(*db_, *bodies_, kAlice, "Jobs/2026").ok());
  EXPECT_EQ(MailboxStore::delete_mailbox(*db_, *bodies_, kAlice, "Jobs/2026").code(),
            StatusCode::kNotFound);

  ASSERT_TRUE(MailboxStore::set_subscribed(*db_, kAlice, "Jobs", true).ok());
  ASSERT_TRUE(MailboxStore::set_subscribed(*db_, kAlice, "Gone", true).ok());
  ASSERT_TRUE(MailboxStore::set_subscribed(*db_, kAlice, "Gone", false).ok());
  auto subs = MailboxStore::subscriptions(*db_, kAlice);
  ASSERT_TRUE(subs.ok());
  EXPECT_EQ(*subs, std::vector<std::string>{"Jobs"});

  auto listing = MailboxStore::list_mailboxes(*db_, kAlice);
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->size(), 3u);
}

TEST_F(MailboxChangesTest, MimeStructureIsKeptWithTheEntry) {
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "INBOX", 0, kNow).ok());
  append("INBOX", "Subject: s\r\n\r\nbody\r\n");
  auto e = MailboxStore::entry(*db_, kAlice, info("INBOX"), 1);
  ASSERT_TRUE(e.ok() && e->has_value());
  (*e)->mime = "structure bytes";
  ASSERT_TRUE(MailboxStore::set_mime(*db_, kAlice, info("INBOX"), **e).ok());
  reopen();
  auto again = MailboxStore::entry(*db_, kAlice, info("INBOX"), 1);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_EQ((*again)->mime, "structure bytes");
  EXPECT_EQ(body_of("INBOX", 1), "Subject: s\r\n\r\nbody\r\n");
}

TEST_F(MailboxChangesTest, EntriesReadsManyUidsInTheOrderGivenAndSkipsMissingOnes) {
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "INBOX", 0, kNow).ok());
  ASSERT_TRUE(MailboxStore::create_mailbox(*db_, kAlice, "Other", 0, kNow).ok());
  for (int i = 1; i <= 40; ++i)
    append("INBOX", "message " + std::to_string(i));
  append("Other", "not in INBOX");
  const std::string large(40000, 'x');  // in a segment file
  const uint32_t large_uid = append("INBOX", large);
  ASSERT_TRUE(MailboxStore::remove(*db_, *bodies_, kAlice, "INBOX", {3, 4, 20}).ok());

  // Ascending with gaps (stepped and sought), removed and unknown UIDs, then out of order.
  const std::vector<uint32_t> wanted = {1, 2, 3, 5, 6, 19, 20, 21, 39, 40, large_uid, 99, 7, 1};
  auto r = MailboxStore::entries(*db_, kAlice, info("INBOX"), wanted);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::vector<uint32_t> got;
  for (const MessageEntry& e : *r)
    got.push_back(e.uid);
  EXPECT_EQ(got, (std::vector<uint32_t>{1, 2, 5, 6, 19, 21, 39, 40, large_uid, 7, 1}));
  for (const MessageEntry& e : *r) {
    auto one = MailboxStore::entry(*db_, kAlice, info("INBOX"), e.uid);
    ASSERT_TRUE(one.ok() && one->has_value());
    EXPECT_EQ(e, **one);
  }
  EXPECT_EQ((*r)[0].inline_body, "message 1");
  EXPECT_EQ((*r)[8].inline_body, "");
  EXPECT_FALSE((*r)[8].extents.empty());

  auto none = MailboxStore::entries(*db_, kAlice, info("Other"), {2, 3});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace rm
