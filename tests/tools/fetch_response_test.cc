// FETCH responses: which items need the stored message or its structure, and the bytes
// written for one message.
#include "tools/ringmaild/imap/fetch_response.h"

#include <gtest/gtest.h>

#include "proto/imap/command.h"

namespace rm {
namespace {

imap::FetchArgs fetch_args(std::string_view items) {
  imap::ParseResult r = imap::parse_imap_command("a FETCH 1 " + std::string(items));
  EXPECT_TRUE(r.command.has_value()) << r.error.text;
  return r.command ? r.command->fetch : imap::FetchArgs{};
}

constexpr std::string_view kMessage =
    "Subject: hi\r\nContent-Type: text/plain\r\n\r\nline one\r\nline two\r\n";

class FetchResponseTest : public ::testing::Test {
 protected:
  FetchResponseTest() {
    MessageEntry e;
    e.uid = 7;
    e.modseq = 12;
    e.flags = kFlagSeen | kFlagFlagged;
    e.size = kMessage.size();
    MailboxInfo info;
    info.uidvalidity = 1;
    info.uidnext = 8;
    view_ = std::make_unique<MailboxView>("alice@example.org", "INBOX", info,
                                          std::vector<MessageEntry>{e});
    stored_.entry = e;
    stored_.body = std::string(kMessage);
  }

  std::string fetch(std::string_view items, bool with_message = true) {
    std::string out;
    const imap::FetchArgs args = fetch_args(items);
    const Status s = append_fetch_response(out, 3, *view_->find(7), *view_,
                                           with_message ? &stored_ : nullptr, args, {});
    EXPECT_TRUE(s.ok()) << s.to_string();
    return out;
  }

  std::unique_ptr<MailboxView> view_;
  StoredMessage stored_;
};

TEST_F(FetchResponseTest, OnlySectionsInsideTheMessageNeedItsStructure) {
  EXPECT_FALSE(fetch_needs_structure(fetch_args("(FLAGS RFC822.SIZE)")));
  EXPECT_FALSE(fetch_needs_structure(fetch_args("(BODY.PEEK[])")));
  EXPECT_FALSE(fetch_needs_structure(fetch_args("(UID BODY[]<0.10> RFC822)")));
  EXPECT_TRUE(fetch_needs_structure(fetch_args("(BODY.PEEK[HEADER])")));
  EXPECT_TRUE(fetch_needs_structure(fetch_args("(BODY[1])")));
  EXPECT_TRUE(fetch_needs_structure(fetch_args("(BODY[] BODYSTRUCTURE)")));
  EXPECT_TRUE(fetch_needs_structure(fetch_args("(ENVELOPE)")));
  EXPECT_TRUE(fetch_needs_structure(fetch_args("(RFC822.HEADER)")));
  EXPECT_TRUE(fetch_needs_structure(fetch_args("(BINARY.PEEK[1])")));
  EXPECT_TRUE(fetch_needs_message(fetch_args("(BODY.PEEK[])")));
  EXPECT_FALSE(fetch_needs_message(fetch_args("(FLAGS RFC822.SIZE)")));
}

TEST_F(FetchResponseTest, WritesTheItemsOfOneMessage) {
  EXPECT_EQ(fetch("(FLAGS RFC822.SIZE)", false),
            "* 3 FETCH (FLAGS (\\Seen \\Flagged) RFC822.SIZE " + std::to_string(kMessage.size()) +
                ")\r\n");
  EXPECT_EQ(fetch("(BODY.PEEK[])"), "* 3 FETCH (BODY[] {" + std::to_string(kMessage.size()) +
                                        "}\r\n" + std::string(kMessage) + ")\r\n");
  EXPECT_EQ(fetch("(BODY.PEEK[]<9.4>)"), "* 3 FETCH (BODY[]<9> {4}\r\nhi\r\n)\r\n");
  EXPECT_EQ(fetch("(BODY.PEEK[TEXT])"),
            "* 3 FETCH (BODY[TEXT] {20}\r\nline one\r\nline two\r\n)\r\n");
  // The message is gone from the store: what the view knows.
  EXPECT_EQ(fetch("(UID BODY.PEEK[] MODSEQ)", false), "* 3 FETCH (UID 7 MODSEQ (12))\r\n");
}

TEST_F(FetchResponseTest, KeywordsFollowTheSystemFlags) {
  uint64_t bits = 0;
  ASSERT_TRUE(view_->keyword_bits({"$Junk", "Work"}, bits));
  MessageMeta meta = *view_->find(7);
  meta.keywords = bits;
  std::string out;
  append_flags(out, meta, *view_);
  EXPECT_EQ(out, "FLAGS (\\Seen \\Flagged $Junk Work)");
  meta.flags = 0;
  meta.keywords = bits & ~uint64_t{1};
  out.clear();
  append_flags(out, meta, *view_);
  EXPECT_EQ(out, "FLAGS (Work)");
}

}  // namespace
}  // namespace rm
