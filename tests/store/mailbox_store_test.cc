// MailboxStore on a real RocksDB and real segment files: delivery assigns UIDs and MODSEQs,
// counters persist, bodies are shared and referenced, removal releases them, and the
// references survive a reopen for BodyStore recovery.
#include "store/mailbox/mailbox_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/body/body_allocator.h"
#include "store/body/segment_writer.h"
#include "store/queue/queue_store.h"
#include "tests/store/store_test_util.h"

namespace rm {
namespace {

using test::TempDir;

constexpr int64_t kNow = 1700000000000;

class MailboxStoreTest : public ::testing::Test {
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
    allocator_ = std::make_unique<BodyAllocator>(*bodies_, 1 << 20);
    writer_ = std::make_unique<SegmentWriter>(*bodies_);
  }

  void reopen() {
    writer_.reset();
    allocator_.reset();
    bodies_.reset();
    ASSERT_TRUE(db_->close().ok());
    open();
  }

  // Writes `body` to the open segment, synced, as a queue commit would.
  std::vector<BodyExtent> store_body(const std::string& body) {
    std::optional<uint64_t> sealed;
    const BodyExtent extent = allocator_->allocate(body, sealed);
    EXPECT_TRUE(writer_->write({BodyPiece{extent, body}}).ok());
    EXPECT_TRUE(writer_->sync().ok());
    return {extent};
  }

  MailboxDelivery delivery(const std::string& account, const std::vector<BodyExtent>& extents,
                           uint64_t size) {
    MailboxDelivery d;
    d.account = account;
    d.extents = extents;
    d.size = size;
    d.internal_date_ms = kNow;
    return d;
  }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<BodyStore> bodies_;
  std::unique_ptr<BodyAllocator> allocator_;
  std::unique_ptr<SegmentWriter> writer_;
};

TEST_F(MailboxStoreTest, DeliveryAssignsUidsAndSharesTheBody) {
  const std::string body = "Subject: hi\r\n\r\nhello\r\n";
  const std::vector<BodyExtent> extents = store_body(body);
  std::vector<MailboxDelivery> batch = {delivery("alice@example.org", extents, body.size()),
                                        delivery("bob@example.org", extents, body.size()),
                                        delivery("alice@example.org", extents, body.size())};
  ASSERT_TRUE(MailboxStore::deliver(*db_, *bodies_, batch, kNow).ok());
  EXPECT_EQ(batch[0].uid, 1u);
  EXPECT_EQ(batch[1].uid, 1u);
  EXPECT_EQ(batch[2].uid, 2u);
  EXPECT_EQ(batch[0].uidvalidity, static_cast<uint32_t>(kNow / 1000));

  const std::optional<MailboxInfo> inbox =
      MailboxStore::mailbox(*db_, "alice@example.org", kInbox).value();
  ASSERT_TRUE(inbox.has_value());
  EXPECT_EQ(inbox->uidnext, 3u);
  EXPECT_EQ(inbox->messages, 2u);
  EXPECT_EQ(inbox->bytes, 2 * body.size());
  EXPECT_EQ(inbox->highest_modseq, 3u);

  std::vector<MessageEntry> entries =
      MailboxStore::messages(*db_, "alice@example.org", kInbox).value();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].uid, 1u);
  EXPECT_EQ(entries[1].uid, 2u);
  EXPECT_LT(entries[0].modseq, entries[1].modseq);
  EXPECT_EQ(entries[0].extents, extents);  // one copy of the body for every recipient
  EXPECT_EQ(MailboxStore::read_body(*bodies_, entries[1]).value(), body);
  EXPECT_EQ(MailboxStore::mailbox_names(*db_, "bob@example.org").value(),
            std::vector<std::string>{"INBOX"});
  EXPECT_EQ(MailboxStore::segment_refs(*db_).value().at(extents[0].segment), 3u);
}

TEST_F(MailboxStoreTest, CountersAndReferencesSurviveAReopen) {
  const std::string body(20000, 'b');
  const std::vector<BodyExtent> extents = store_body(body);
  std::vector<MailboxDelivery> batch = {delivery("carol@example.org", extents, body.size())};
  ASSERT_TRUE(MailboxStore::deliver(*db_, *bodies_, batch, kNow).ok());
  reopen();  // the segment was never sealed: only the mailbox reference keeps it
  std::vector<MailboxDelivery> again = {delivery("carol@example.org", {}, 3)};
  again[0].inline_body = "abc";
  ASSERT_TRUE(MailboxStore::deliver(*db_, *bodies_, again, kNow + 5000).ok());
  EXPECT_EQ(again[0].uid, 2u);
  EXPECT_EQ(again[0].uidvalidity, static_cast<uint32_t>(kNow / 1000));
  std::vector<MessageEntry> entries =
      MailboxStore::messages(*db_, "carol@example.org", kInbox).value();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(MailboxStore::read_body(*bodies_, entries[0]).value(), body);
  EXPECT_EQ(MailboxStore::read_body(*bodies_, entries[1]).value(), "abc");

  // Removing the last reference removes the (sealed, recovered) segment.
  ASSERT_TRUE(MailboxStore::remove(*db_, *bodies_, "carol@example.org", kInbox, {1, 2}).ok());
  EXPECT_EQ(bodies_->segment_count(), 0u);
  EXPECT_TRUE(MailboxStore::messages(*db_, "carol@example.org", kInbox).value().empty());
  const MailboxInfo info = MailboxStore::mailbox(*db_, "carol@example.org", kInbox).value().value();
  EXPECT_EQ(info.messages, 0u);
  EXPECT_EQ(info.uidnext, 3u);  // UIDs are never reused
  EXPECT_TRUE(MailboxStore::segment_refs(*db_).value().empty());
}

TEST_F(MailboxStoreTest, BadDeliveriesAreRefusedOneByOne) {
  const std::vector<BodyExtent> extents = store_body("12345");
  std::vector<MailboxDelivery> batch = {delivery("dave@example.org", extents, 4),  // wrong size
                                        delivery("", extents, 5),                  // no account
                                        delivery("dave@example.org", extents, 5),
                                        delivery("dave@example.org", extents, 5)};
  batch[3].mailbox = std::string(kMailboxNameBytesMax + 1, 'm');  // name too long
  ASSERT_TRUE(MailboxStore::deliver(*db_, *bodies_, batch, kNow).ok());
  EXPECT_EQ(batch[0].status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(batch[1].status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(batch[2].status.ok());
  EXPECT_EQ(batch[2].uid, 1u);
  EXPECT_EQ(batch[3].status.code(), StatusCode::kInvalidArgument);
}

TEST(MailboxRecordsTest, RoundTripAndCorruption) {
  MessageEntry e{7, 42, kFlagSeen | kFlagFlagged, {"$Junk", "work"}, -5, 3, {}, "abc", 99};
  const std::string bytes = encode_message_entry(e);
  EXPECT_EQ(decode_message_entry(bytes, 7).value(), e);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_message_entry(bytes.substr(0, n), 7).ok()) << n;
  }
  MailboxInfo info{3, 1700000000, 10, 99, 9, 12345};
  EXPECT_EQ(decode_mailbox_info(encode_mailbox_info(info)).value(), info);
  EXPECT_FALSE(decode_mailbox_info(encode_mailbox_info(info) + "x").ok());
}

}  // namespace
}  // namespace rm
