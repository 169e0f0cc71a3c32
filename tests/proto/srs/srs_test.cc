#include "proto/srs/srs.h"

#include <gtest/gtest.h>

namespace rm::srs {
namespace {

constexpr int64_t kNow = 1577836860;  // 2020-01-01 00:01:00 UTC: day 18262, slot 854 = "2W"
constexpr int64_t kDay = 86400;

Srs make(std::vector<std::string> secrets = {"tops3cr3t"}, SrsOptions options = {}) {
  Result<Srs> srs = Srs::create(std::move(secrets), options);
  EXPECT_TRUE(srs.ok()) << srs.status().to_string();
  return std::move(srs).value();
}

// The vector of postsrsd's own unit test (libsrs2 format, secret "tops3cr3t").
TEST(SrsTest, ForwardMatchesPostsrsd) {
  Srs srs = make();
  Rewritten r = srs.forward("test@otherdomain.com", "example.com", kNow);
  ASSERT_TRUE(r.ok()) << srs_error_name(r.error);
  EXPECT_EQ(r.address, "SRS0=vmyz=2W=otherdomain.com=test@example.com");
  // A sender already in our domain is left alone, unless asked otherwise.
  EXPECT_EQ(srs.forward("test@Example.COM", "example.com", kNow).address, "test@Example.COM");
  SrsOptions always;
  always.always_rewrite = true;
  EXPECT_EQ(make({"tops3cr3t"}, always).forward("test@example.com", "example.com", kNow).address,
            "SRS0=e/ne=2W=example.com=test@example.com");
  EXPECT_EQ(srs.forward("foo", "example.com", kNow).error, SrsError::kNoAtSign);
  EXPECT_EQ(srs.forward("@x.org", "example.com", kNow).error, SrsError::kSyntax);
  EXPECT_EQ(srs.forward("a@b=c.org", "example.com", kNow).error, SrsError::kSyntax);
}

TEST(SrsTest, ReverseMatchesPostsrsd) {
  Srs srs = make();
  EXPECT_EQ(srs.reverse("test@example.com", kNow).error, SrsError::kNotSrs);
  Rewritten r = srs.reverse("SRS0=vmyz=2W=otherdomain.com=test@example.com", kNow);
  ASSERT_TRUE(r.ok()) << srs_error_name(r.error);
  EXPECT_EQ(r.address, "test@otherdomain.com");
}

TEST(SrsTest, RoundTripsWithEachSeparatorAndHashLength) {
  for (char sep : {'=', '+', '-'}) {
    for (size_t length : {1u, 4u, 8u, 27u}) {
      SrsOptions o;
      o.separator = sep;
      o.hash_length = length;
      o.hash_min = length;
      Srs srs = make({"s3cret"}, o);
      for (std::string_view sender :
           {"alice@example.org", "first.last+tag@sub.example.co.uk", "a=b@example.org"}) {
        Rewritten fwd = srs.forward(sender, "forwarder.net", kNow);
        ASSERT_TRUE(fwd.ok()) << sender;
        EXPECT_EQ(fwd.address.substr(0, 5), std::string("SRS0") + sep);
        EXPECT_TRUE(Srs::is_srs(fwd.address));
        Rewritten back = srs.reverse(fwd.address, kNow + 3 * kDay);
        ASSERT_TRUE(back.ok()) << fwd.address << ": " << srs_error_name(back.error);
        EXPECT_EQ(back.address, sender);
      }
    }
  }
}

TEST(SrsTest, Srs1FromSrs0AndBackToTheFirstForwarder) {
  Srs srs = make();
  // We forward mail whose sender was already rewritten by example.com.
  Rewritten srs1 =
      srs.forward("SRS0=vmyz=2W=otherdomain.com=test@example.com", "forwarder.net", kNow);
  ASSERT_TRUE(srs1.ok());
  // The double separator keeps the first forwarder's separator (libsrs2, Mail::SRS::Guarded).
  EXPECT_EQ(srs1.address, "SRS1=JO9m=example.com==vmyz=2W=otherdomain.com=test@forwarder.net");
  // A bounce to it goes back to the first forwarder, which holds the SRS0 secret.
  Rewritten back = srs.reverse(srs1.address, kNow);
  ASSERT_TRUE(back.ok()) << srs_error_name(back.error);
  EXPECT_EQ(back.address, "SRS0=vmyz=2W=otherdomain.com=test@example.com");
  // Forwarding the SRS1 address once more keeps example.com and re-signs.
  Rewritten again = srs.forward(srs1.address, "third.org", kNow);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.address, "SRS1=JO9m=example.com==vmyz=2W=otherdomain.com=test@third.org");
  EXPECT_EQ(srs.reverse(again.address, kNow).address, back.address);
}

TEST(SrsTest, TamperedHashOrAddressIsRefused) {
  Srs srs = make();
  EXPECT_EQ(srs.reverse("SRS0=vmyA=2W=otherdomain.com=test@example.com", kNow).error,
            SrsError::kBadHash);
  EXPECT_EQ(srs.reverse("SRS0=vmyz=2W=otherdomain.com=evil@example.com", kNow).error,
            SrsError::kBadHash);
  EXPECT_EQ(srs.reverse("SRS0=vmyz=2W=evil.com=test@example.com", kNow).error, SrsError::kBadHash);
  EXPECT_EQ(srs.reverse("SRS0=vm=2W=otherdomain.com=test@example.com", kNow).error,
            SrsError::kHashTooShort);
  EXPECT_EQ(srs.reverse("SRS1=AAAA=example.com==vmyz=2W=otherdomain.com=test@f.net", kNow).error,
            SrsError::kBadHash);
  EXPECT_EQ(srs.reverse("SRS0=vmyz=2W@example.com", kNow).error, SrsError::kSyntax);
  EXPECT_EQ(srs.reverse("SRS1=JO9m=example.com@example.com", kNow).error, SrsError::kSyntax);
  EXPECT_EQ(make({"other"}).reverse("SRS0=vmyz=2W=otherdomain.com=test@example.com", kNow).error,
            SrsError::kBadHash);
}

TEST(SrsTest, ExpiredAndFutureTimestamps) {
  Srs srs = make();
  const std::string addr = "SRS0=vmyz=2W=otherdomain.com=test@example.com";
  EXPECT_TRUE(srs.reverse(addr, kNow + 21 * kDay).ok());
  EXPECT_EQ(srs.reverse(addr, kNow + 22 * kDay).error, SrsError::kExpired);
  EXPECT_EQ(srs.reverse(addr, kNow - kDay).error, SrsError::kExpired);  // from "tomorrow"
  EXPECT_TRUE(srs.reverse(addr, kNow + 1024 * kDay).ok());  // the 10-bit wrap, as libsrs2
  SrsOptions short_age;
  short_age.max_age_days = 2;
  EXPECT_EQ(make({"tops3cr3t"}, short_age).reverse(addr, kNow + 3 * kDay).error,
            SrsError::kExpired);
  // Timestamps that are not two base32 characters (hashes computed for these very texts).
  EXPECT_EQ(srs.reverse("SRS0=STcn=2!=otherdomain.com=test@example.com", kNow).error,
            SrsError::kBadTimestamp);
  EXPECT_EQ(srs.reverse("SRS0=R3kP=2W9=otherdomain.com=test@example.com", kNow).error,
            SrsError::kBadTimestamp);
}

TEST(SrsTest, CaseMangledAddressIsAccepted) {
  Srs srs = make();
  Rewritten r = srs.reverse("srs0=VMYZ=2w=OtherDomain.COM=Test@EXAMPLE.COM", kNow);
  ASSERT_TRUE(r.ok()) << srs_error_name(r.error);
  EXPECT_EQ(r.address, "Test@OtherDomain.COM");
  EXPECT_TRUE(srs.reverse("SRS0+vmyz=2W=otherdomain.com=test@example.com", kNow).ok());
}

TEST(SrsTest, SecretRotationSignsWithFirstAndVerifiesWithAll) {
  Srs old_only = make({"old"});
  Srs rotated = make({"new", "old"});
  Rewritten by_old = old_only.forward("test@otherdomain.com", "example.com", kNow);
  EXPECT_EQ(by_old.address, "SRS0=yMYe=2W=otherdomain.com=test@example.com");
  EXPECT_TRUE(rotated.reverse(by_old.address, kNow).ok());
  Rewritten by_new = rotated.forward("test@otherdomain.com", "example.com", kNow);
  EXPECT_NE(by_new.address, by_old.address);
  EXPECT_TRUE(rotated.reverse(by_new.address, kNow).ok());
  EXPECT_EQ(old_only.reverse(by_new.address, kNow).error, SrsError::kBadHash);
}

TEST(SrsTest, BounceReversalOfShorterHashWithinHashMin) {
  SrsOptions o;
  o.hash_length = 6;
  o.hash_min = 4;
  Srs srs = make({"tops3cr3t"}, o);
  // Written with 6 characters; an older 4-character address of the same secret still works.
  EXPECT_EQ(srs.forward("test@otherdomain.com", "example.com", kNow).address,
            "SRS0=vmyz7B=2W=otherdomain.com=test@example.com");
  EXPECT_TRUE(srs.reverse("SRS0=vmyz=2W=otherdomain.com=test@example.com", kNow).ok());
}

TEST(SrsTest, LimitsAndOptions) {
  Srs srs = make();
  std::string long_local(600, 'a');
  EXPECT_EQ(srs.forward(long_local + "@x.org", "example.com", kNow).error, SrsError::kTooLong);
  EXPECT_EQ(srs.forward(std::string(490, 'a') + "@x.org", "example.com", kNow).error,
            SrsError::kTooLong);  // the result would pass the limit
  EXPECT_EQ(srs.reverse("SRS0=" + long_local, kNow).error, SrsError::kTooLong);
  EXPECT_FALSE(Srs::create({}).ok());
  EXPECT_FALSE(Srs::create({""}).ok());
  SrsOptions bad;
  bad.separator = '#';
  EXPECT_FALSE(Srs::create({"s"}, bad).ok());
  bad = {};
  bad.hash_min = 5;
  EXPECT_FALSE(Srs::create({"s"}, bad).ok());
  bad = {};
  bad.max_age_days = 1024;
  EXPECT_FALSE(Srs::create({"s"}, bad).ok());
  EXPECT_FALSE(Srs::is_srs("SRS2=abc@x"));
  EXPECT_FALSE(Srs::is_srs("SRS0"));
  EXPECT_TRUE(Srs::is_srs("srs1-x@y"));
}

}  // namespace
}  // namespace rm::srs
