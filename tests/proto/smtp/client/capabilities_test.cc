#include "proto/smtp/client/capabilities.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rm::smtp {
namespace {

ServerReply ehlo(std::vector<std::string> lines) {
  ServerReply reply;
  reply.code = 250;
  reply.lines = std::move(lines);
  return reply;
}

TEST(SmtpCapabilitiesTest, PostfixStyleEhlo) {
  const Capabilities caps =
      parse_ehlo(ehlo({"mx.example.org", "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "STARTTLS",
                       "AUTH PLAIN LOGIN CRAM-MD5", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
                       "SMTPUTF8", "CHUNKING"}));
  EXPECT_TRUE(caps.pipelining);
  EXPECT_TRUE(caps.size);
  EXPECT_EQ(caps.size_bytes_max, 10240000u);
  EXPECT_TRUE(caps.starttls);
  EXPECT_TRUE(caps.enhanced_status_codes);
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_FALSE(caps.binarymime);
  EXPECT_TRUE(caps.dsn);
  EXPECT_TRUE(caps.smtputf8);
  EXPECT_TRUE(caps.chunking);
  EXPECT_TRUE(caps.auth_plain);
  EXPECT_TRUE(caps.auth_login);
  EXPECT_EQ(caps.auth_mechanisms, (std::vector<std::string>{"PLAIN", "LOGIN", "CRAM-MD5"}));
}

TEST(SmtpCapabilitiesTest, KeywordsAreCaseInsensitive) {
  const Capabilities caps =
      parse_ehlo(ehlo({"mx", "pipelining", "Size 42", "starttls", "auth login xoauth2", "8bitmime",
                       "BinaryMime", "chunking", "dsn"}));
  EXPECT_TRUE(caps.pipelining);
  EXPECT_EQ(caps.size_bytes_max, 42u);
  EXPECT_TRUE(caps.starttls);
  EXPECT_FALSE(caps.auth_plain);
  EXPECT_TRUE(caps.auth_login);
  EXPECT_EQ(caps.auth_mechanisms, (std::vector<std::string>{"LOGIN", "XOAUTH2"}));
  EXPECT_TRUE(caps.eightbitmime);
  EXPECT_TRUE(caps.binarymime);
  EXPECT_TRUE(caps.chunking);
  EXPECT_TRUE(caps.dsn);
}

TEST(SmtpCapabilitiesTest, SizeWithoutOrWithABadNumberMeansNoLimit) {
  for (const char* line :
       {"SIZE", "SIZE 0", "SIZE abc", "SIZE 99999999999999999999999", "SIZE -5"}) {
    const Capabilities caps = parse_ehlo(ehlo({"mx", line}));
    EXPECT_TRUE(caps.size) << line;
    EXPECT_EQ(caps.size_bytes_max, 0u) << line;
  }
}

TEST(SmtpCapabilitiesTest, OldAuthEqualsFormAndDuplicates) {
  const Capabilities caps = parse_ehlo(ehlo({"mx", "AUTH=LOGIN PLAIN", "AUTH PLAIN LOGIN"}));
  EXPECT_TRUE(caps.auth_plain);
  EXPECT_TRUE(caps.auth_login);
  EXPECT_EQ(caps.auth_mechanisms, (std::vector<std::string>{"LOGIN", "PLAIN"}));
}

TEST(SmtpCapabilitiesTest, TheFirstLineIsNotAKeyword) {
  const Capabilities caps = parse_ehlo(ehlo({"PIPELINING says hello"}));
  EXPECT_FALSE(caps.pipelining);
  const Capabilities none = parse_ehlo(ehlo({"mx", "", "   ", "X-UNKNOWN 1 2", "SIZEX 10"}));
  EXPECT_FALSE(none.size);
  EXPECT_TRUE(none.auth_mechanisms.empty());
}

TEST(SmtpCapabilitiesTest, AuthMechanismsAreBounded) {
  std::string line = "AUTH";
  for (int i = 0; i < 100; ++i) {
    line += " M" + std::to_string(i);
  }
  const Capabilities caps = parse_ehlo(ehlo({"mx", line, "AUTH PLAIN"}));
  EXPECT_EQ(caps.auth_mechanisms.size(), kAuthMechanismsMax);
  EXPECT_TRUE(caps.auth_plain);  // the flags are kept past the bound
}

}  // namespace
}  // namespace rm::smtp
