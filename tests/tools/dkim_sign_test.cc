// Outbound DKIM signing in ringmaild: which domain a message is signed as, and that the
// fields made with the stored keys verify.
#include "tools/ringmaild/mail_auth/dkim_sign.h"

#include <gtest/gtest.h>

#include <string>

#include "proto/dkim/header_canon.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/verifier.h"

namespace rm {
namespace {

constexpr uint64_t kNow = 1796000000;
const std::string kMessage =
    "From: \"Sam, S.\" <Sam@Signed.Example>\r\nTo: rita@example.org\r\nSubject: hi\r\n\r\nbody\r\n";

DkimKeyEntry entry(const std::string& domain, const std::string& selector, KeyType type,
                   std::string* record) {
  SigningKey key = SigningKey::generate(type).value();
  *record = format_dkim_key_record(type, key.public_der());
  return {domain, selector, type, key.private_pem()};
}

TEST(DkimSignTest, FromDomain) {
  EXPECT_EQ(dkim_from_domain(kMessage), "signed.example");
  EXPECT_EQ(dkim_from_domain("From: a@b.example (Someone)\r\n\r\n"), "b.example");
  EXPECT_EQ(dkim_from_domain("From: x@one.example, y@two.example\r\n\r\n"), "one.example");
  EXPECT_EQ(dkim_from_domain("Subject: no from\r\n\r\nFrom: a@b.example\r\n"), "");
  EXPECT_EQ(dkim_from_domain("From: undisclosed\r\n\r\n"), "");
}

TEST(DkimSignTest, SigningDomainPrefersFromThenSender) {
  std::string record;
  DkimKeySet keys;
  keys.keys.push_back(entry("signed.example", "s", KeyType::kEd25519, &record));
  keys.keys.push_back(entry("sender.example", "s", KeyType::kEd25519, &record));
  EXPECT_EQ(dkim_signing_domain(keys, kMessage, "bounce@sender.example"), "signed.example");
  const std::string other = "From: a@other.example\r\n\r\nx\r\n";
  EXPECT_EQ(dkim_signing_domain(keys, other, "bounce@Sender.Example"), "sender.example");
  EXPECT_EQ(dkim_signing_domain(keys, other, "a@other.example"), "");
  EXPECT_EQ(dkim_signing_domain(keys, other, ""), "");
  EXPECT_EQ(dkim_signing_domain(DkimKeySet{}, kMessage, "a@signed.example"), "");
}

TEST(DkimSignTest, SignsWithEveryKeyOfTheDomainAndVerifies) {
  std::string rsa_record, ed_record, other_record;
  DkimKeySet keys;
  keys.keys.push_back(entry("signed.example", "ed", KeyType::kEd25519, &ed_record));
  keys.keys.push_back(entry("signed.example", "rsa", KeyType::kRsa, &rsa_record));
  keys.keys.push_back(entry("other.example", "s", KeyType::kEd25519, &other_record));
  Result<std::string> fields = dkim_sign(keys, "signed.example", kMessage, kNow);
  ASSERT_TRUE(fields.ok()) << fields.status().to_string();
  const std::string message = *fields + kMessage;
  const DkimMessageParts parts = split_dkim_message(message);
  DkimVerifier verifier(parts.header_block, kNow);
  verifier.update_body(parts.body);
  verifier.finish_body();
  verifier.provide_key("ed._domainkey.signed.example", {ed_record});
  verifier.provide_key("rsa._domainkey.signed.example", {rsa_record});
  const std::vector<DkimResult> results = verifier.results();
  ASSERT_EQ(results.size(), 2u);
  for (const DkimResult& r : results) {
    EXPECT_EQ(r.status, DkimStatus::kPass) << r.reason;
  }
  EXPECT_EQ(dkim_sign(keys, "none.example", kMessage, kNow).value(), "");
  DkimKeySet broken;
  broken.keys.push_back({"signed.example", "bad", KeyType::kRsa, "not a key"});
  EXPECT_FALSE(dkim_sign(broken, "signed.example", kMessage, kNow).ok());
}

}  // namespace
}  // namespace rm
