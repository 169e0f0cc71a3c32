#include "proto/imap/mailbox_name.h"

#include <gtest/gtest.h>

namespace rm::imap {
namespace {

TEST(ImapMailboxNameTest, ModifiedUtf7Examples) {
  // RFC 3501 §5.1.3.
  EXPECT_EQ(mutf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            "~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E");
  EXPECT_EQ(
      mutf7_encode("~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"),
      "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(mutf7_decode("&-"), "&");
  EXPECT_EQ(mutf7_encode("A&B"), "A&-B");
  EXPECT_EQ(mutf7_decode("Entw&APw-rfe"), "Entw\xC3\xBCrfe");
  EXPECT_EQ(mutf7_encode("\xC3\xA9t\xC3\xA9"), "&AOk-t&AOk-");
}

TEST(ImapMailboxNameTest, RoundTrips) {
  for (std::string_view utf8 :
       {"", "INBOX", "a&b", "\xC3\xA9\xC3\xA9\xC3\xA9", "Sent/\xD0\x9E\xD1\x82\xD0\xBF",
        "\xF0\x9F\x93\xA7 mail", "tab\tinside",
        "x\xE2\x82\xAC"
        "y\xE2\x82\xAC\xE2\x82\xAC"}) {
    std::optional<std::string> enc = mutf7_encode(utf8);
    ASSERT_TRUE(enc) << utf8;
    for (char c : *enc) {
      EXPECT_TRUE(c >= 0x20 && c <= 0x7E) << *enc;
    }
    EXPECT_EQ(mutf7_decode(*enc), std::string(utf8)) << *enc;
  }
}

TEST(ImapMailboxNameTest, RefusesBadInput) {
  for (std::string_view bad : {"&", "&AOk", "&AGE-" /* 'a' encoded */, "&2D3-" /* lone surrogate */,
                               "&AOkA-" /* leftover bits */, "\xC3\xA9", "&!!-"}) {
    EXPECT_FALSE(mutf7_decode(bad).has_value()) << bad;
  }
  EXPECT_FALSE(mutf7_encode("\xC3").has_value());
  EXPECT_FALSE(mutf7_encode("\xED\xA0\x80").has_value());  // surrogate
  EXPECT_FALSE(mutf7_encode("\xC0\xAF").has_value());      // overlong
}

TEST(ImapMailboxNameTest, InboxNormalization) {
  EXPECT_EQ(normalize_inbox("inbox"), "INBOX");
  EXPECT_EQ(normalize_inbox("InBoX/Sub"), "INBOX/Sub");
  EXPECT_EQ(normalize_inbox("inbox.Sub", '.'), "INBOX.Sub");
  EXPECT_EQ(normalize_inbox("inboxes"), "inboxes");
  EXPECT_EQ(normalize_inbox("Other/inbox"), "Other/inbox");
  EXPECT_EQ(normalize_inbox("inb"), "inb");
}

}  // namespace
}  // namespace rm::imap
