#include "proto/dmarc/from_domain.h"

#include <gtest/gtest.h>

namespace rm::dmarc {
namespace {

std::string domain_of(std::string_view value) {
  FromDomain f = from_domain_of_value(value);
  return f.ok() ? f.domain : "<" + std::string(from_error_name(f.error)) + ">";
}

FromError error_of(std::string_view value) {
  return from_domain_of_value(value).error;
}

TEST(DmarcFromTest, CommonShapes) {
  EXPECT_EQ(domain_of(" alice@Example.COM"), "example.com");
  EXPECT_EQ(domain_of(" Alice <alice@example.com>"), "example.com");
  EXPECT_EQ(domain_of(" \"Doe, Alice\" <alice@example.com>"), "example.com");
  EXPECT_EQ(domain_of(" \"a@evil.com\" <alice@example.com>"), "example.com");
  EXPECT_EQ(domain_of(" alice@example.com (Alice, at work)"), "example.com");
  EXPECT_EQ(domain_of(" (nested (comment) <x@y.z>) alice@example.com"), "example.com");
  EXPECT_EQ(domain_of(" \"quoted@local\"@example.com"), "example.com");
  EXPECT_EQ(domain_of(" =?utf-8?q?Al=C3=AFce?= <alice@example.com.>"), "example.com");
  EXPECT_EQ(domain_of(" <@relay.net,@r2.net:alice@example.com>"), "example.com");
  EXPECT_EQ(domain_of(" alice @ example . com"), "example.com");
  EXPECT_EQ(domain_of(" Authors: alice@example.com;"), "example.com");  // a group of one
  EXPECT_EQ(domain_of("\r\n\tAlice\r\n <alice@example.com>"), "example.com");
}

TEST(DmarcFromTest, Errors) {
  EXPECT_EQ(error_of(" a@example.com, b@example.org"), FromError::kMultipleAddresses);
  EXPECT_EQ(error_of(" Team: a@example.com, b@example.com;"), FromError::kMultipleAddresses);
  EXPECT_EQ(error_of(" undisclosed-recipients:;"), FromError::kNoAddress);
  EXPECT_EQ(error_of(""), FromError::kNoAddress);
  EXPECT_EQ(error_of(" (just a comment)"), FromError::kNoAddress);
  EXPECT_EQ(error_of(" <>"), FromError::kNoAddress);
  EXPECT_EQ(error_of(" alice"), FromError::kNoDomain);
  EXPECT_EQ(error_of(" alice@"), FromError::kNoDomain);
  EXPECT_EQ(error_of(" alice@[192.0.2.1]"), FromError::kNoDomain);
  EXPECT_EQ(error_of(" alice@exa_mple..com"), FromError::kBadDomain);
  EXPECT_EQ(error_of(" <alice@example.com"), FromError::kSyntax);
  EXPECT_EQ(error_of(" alice@example.com>"), FromError::kSyntax);
  EXPECT_EQ(error_of(" <a@example.com> <b@example.com>"), FromError::kSyntax);
  EXPECT_EQ(error_of(" \"unterminated <a@example.com>"), FromError::kSyntax);
  EXPECT_EQ(error_of(" (unterminated a@example.com"), FromError::kSyntax);
  EXPECT_EQ(error_of(" a@[1.2.3.4"), FromError::kSyntax);
  EXPECT_EQ(error_of(" Group: a@example.com"), FromError::kSyntax);
  EXPECT_EQ(error_of(" a@example.com;"), FromError::kSyntax);
  EXPECT_EQ(error_of(std::string(kFromValueBytesMax + 1, ' ')), FromError::kTooLong);
}

TEST(DmarcFromTest, HeaderBlock) {
  FromDomain f = extract_from_domain(
      "Received: from x\r\n by y\r\nFROM : Alice\r\n <alice@example.com>\r\nSubject: hi\r\n"
      "\r\nFrom: body@not-a-header.example\r\n");
  ASSERT_TRUE(f.ok()) << from_error_name(f.error);
  EXPECT_EQ(f.domain, "example.com");
  EXPECT_EQ(extract_from_domain("Subject: x\nTo: a@b.c\n\n").error, FromError::kNoFrom);
  EXPECT_EQ(extract_from_domain("From: a@b.c\nFrom: a@b.c\n").error, FromError::kMultipleFrom);
  EXPECT_EQ(extract_from_domain("from: a@b.c\nFROM: x@y.z\n").error, FromError::kMultipleFrom);
  EXPECT_EQ(extract_from_domain("X-From: a@b.c\nFrom: c@d.e\n").domain, "d.e");
  EXPECT_EQ(extract_from_domain("").error, FromError::kNoFrom);
  EXPECT_EQ(from_error_name(FromError::kMultipleFrom), "more than one From field");
}

}  // namespace
}  // namespace rm::dmarc
