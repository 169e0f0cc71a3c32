// SrsPolicy: which senders are rewritten when forwarding, and which recipients are bounces to
// our SRS addresses.
#include "tools/ringmaild/delivery/srs_policy.h"

#include <gtest/gtest.h>

namespace rm {
namespace {

constexpr int64_t kNow = 1700000000;  // 2023-11-14
constexpr int64_t kDay = 86400;

SrsPolicy make_policy(std::vector<std::string> secrets = {"s3cret"}) {
  Result<srs::Srs> srs = srs::Srs::create(std::move(secrets));
  RM_ASSERT(srs.ok());
  return SrsPolicy(std::move(*srs), "Fwd.Example", {"fwd.example", "other.example"});
}

TEST(SrsPolicyTest, RewritesForeignSendersToSrs0AtOurDomain) {
  const SrsPolicy p = make_policy();
  EXPECT_EQ(p.domain(), "fwd.example");
  const std::string out = p.forward_sender("alice@example.org", kNow);
  EXPECT_EQ(out.rfind("SRS0=", 0), 0u) << out;
  EXPECT_NE(out.find("=example.org=alice@fwd.example"), std::string::npos) << out;
}

TEST(SrsPolicyTest, KeepsNullOurAndUnrewritableSenders) {
  const SrsPolicy p = make_policy();
  EXPECT_EQ(p.forward_sender("", kNow), "");
  EXPECT_EQ(p.forward_sender("bob@fwd.example", kNow), "bob@fwd.example");
  EXPECT_EQ(p.forward_sender("bob@OTHER.example", kNow), "bob@OTHER.example");
  EXPECT_EQ(p.forward_sender("no-at-sign", kNow), "no-at-sign");
  const std::string huge = std::string(600, 'a') + "@example.org";
  EXPECT_EQ(p.forward_sender(huge, kNow), huge);
}

TEST(SrsPolicyTest, AnSrsSenderBecomesSrs1) {
  const SrsPolicy first = make_policy({"first"});
  Result<srs::Srs> srs = srs::Srs::create({"second"});
  ASSERT_TRUE(srs.ok());
  const SrsPolicy second(std::move(*srs), "next.example", {});
  const std::string hop1 = first.forward_sender("alice@example.org", kNow);
  const std::string hop2 = second.forward_sender(hop1, kNow);
  EXPECT_EQ(hop2.rfind("SRS1=", 0), 0u) << hop2;
  EXPECT_NE(hop2.find("=fwd.example=="), std::string::npos) << hop2;
  // The bounce goes back hop by hop.
  std::optional<srs::Rewritten> back = second.reverse_recipient(hop2, kNow);
  ASSERT_TRUE(back && back->ok());
  back = first.reverse_recipient(back->address, kNow);
  ASSERT_TRUE(back && back->ok());
  EXPECT_EQ(back->address, "alice@example.org");
}

TEST(SrsPolicyTest, ReversesItsOwnAddresses) {
  const SrsPolicy p = make_policy();
  const std::string out = p.forward_sender("alice@example.org", kNow);
  std::optional<srs::Rewritten> back = p.reverse_recipient(out, kNow + 3 * kDay);
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(back->ok()) << srs::srs_error_name(back->error);
  EXPECT_EQ(back->address, "alice@example.org");
}

TEST(SrsPolicyTest, IgnoresOrdinaryAddressesAndOtherDomains) {
  const SrsPolicy p = make_policy();
  EXPECT_FALSE(p.reverse_recipient("bob@fwd.example", kNow).has_value());
  EXPECT_FALSE(p.reverse_recipient("no-at-sign", kNow).has_value());
  const std::string out = p.forward_sender("alice@example.org", kNow);
  const std::string elsewhere = out.substr(0, out.find('@')) + "@other.example";
  EXPECT_FALSE(p.reverse_recipient(elsewhere, kNow).has_value());
}

TEST(SrsPolicyTest, RefusesTamperedForeignAndExpiredAddresses) {
  const SrsPolicy p = make_policy();
  std::string out = p.forward_sender("alice@example.org", kNow);
  std::string tampered = out;
  tampered.replace(tampered.find("alice"), 5, "mallo");
  std::optional<srs::Rewritten> back = p.reverse_recipient(tampered, kNow);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->error, srs::SrsError::kBadHash);

  const SrsPolicy other = make_policy({"another secret"});
  back = other.reverse_recipient(out, kNow);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->error, srs::SrsError::kBadHash);

  back = p.reverse_recipient(out, kNow + 30 * kDay);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->error, srs::SrsError::kExpired);
  EXPECT_EQ(SrsPolicy::refusal_text("x@fwd.example", back->error),
            "<x@fwd.example>: Recipient address rejected: expired SRS address (" +
                std::string(srs::srs_error_name(srs::SrsError::kExpired)) + ")");
}

TEST(SrsPolicyTest, OldSecretsStillVerify) {
  const SrsPolicy old_policy = make_policy({"old"});
  const SrsPolicy rotated = make_policy({"new", "old"});
  const std::string out = old_policy.forward_sender("alice@example.org", kNow);
  std::optional<srs::Rewritten> back = rotated.reverse_recipient(out, kNow);
  ASSERT_TRUE(back && back->ok());
  EXPECT_EQ(back->address, "alice@example.org");
}

TEST(SrsPolicyTest, DomainDefaults) {
  EXPECT_EQ(srs_domain("Srs.Example", {"a.example"}, "mx.example"), "srs.example");
  EXPECT_EQ(srs_domain("", {"A.example", "b.example"}, "mx.example"), "a.example");
  EXPECT_EQ(srs_domain("", {}, "mx.example"), "mx.example");
  EXPECT_EQ(srs_domain("", {"localhost"}, "MX.example"), "mx.example");
  EXPECT_EQ(srs_domain("", {"LocalHost", "b.example"}, "mx.example"), "b.example");
}

}  // namespace
}  // namespace rm
