#include "proto/dmarc/public_suffix_list.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "proto/dmarc/domain_name.h"
#include "tests/proto/dmarc/psl_test_list.h"

namespace rm::dmarc {
namespace {

PublicSuffixList test_list() {
  Result<PublicSuffixList> psl = PublicSuffixList::parse(testing::kTestPsl);
  EXPECT_TRUE(psl.ok());
  return std::move(psl).value();
}

std::string org(const PublicSuffixList& psl, std::string_view d,
                PslSections s = PslSections::kAll) {
  Result<std::string> r = psl.organizational_domain(d, s);
  return r.ok() ? *r : "<" + std::string(r.status().message()) + ">";
}

std::string suffix(const PublicSuffixList& psl, std::string_view d) {
  Result<std::string> r = psl.public_suffix(d);
  return r.ok() ? *r : "<error>";
}

TEST(DmarcPslTest, NormalRules) {
  PublicSuffixList psl = test_list();
  EXPECT_EQ(psl.rule_count(), 16u);
  EXPECT_EQ(org(psl, "example.com"), "example.com");
  EXPECT_EQ(org(psl, "a.b.Example.COM."), "example.com");
  EXPECT_EQ(org(psl, "mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(suffix(psl, "mail.example.co.uk"), "co.uk");
  EXPECT_EQ(org(psl, "example.uk"), "example.uk");
  EXPECT_EQ(org(psl, "co.uk"), "co.uk");  // a public suffix is its own organizational domain
  EXPECT_EQ(org(psl, "com"), "com");
  // No rule: the implicit "*" makes the last label the suffix.
  EXPECT_EQ(org(psl, "a.b.example.unknowntld"), "example.unknowntld");
}

TEST(DmarcPslTest, WildcardsAndExceptions) {
  PublicSuffixList psl = test_list();
  EXPECT_EQ(suffix(psl, "foo.ck"), "foo.ck");
  EXPECT_EQ(org(psl, "foo.ck"), "foo.ck");
  EXPECT_EQ(org(psl, "a.b.foo.ck"), "b.foo.ck");
  EXPECT_EQ(suffix(psl, "www.ck"), "ck");
  EXPECT_EQ(org(psl, "www.ck"), "www.ck");
  EXPECT_EQ(org(psl, "mail.www.ck"), "www.ck");
  EXPECT_EQ(org(psl, "ck"), "ck");
  EXPECT_EQ(org(psl, "a.b.kawasaki.jp"), "a.b.kawasaki.jp");
  EXPECT_EQ(org(psl, "x.city.kawasaki.jp"), "city.kawasaki.jp");
  EXPECT_EQ(org(psl, "kawasaki.jp"), "kawasaki.jp");
}

TEST(DmarcPslTest, PrivateSection) {
  PublicSuffixList psl = test_list();
  EXPECT_EQ(org(psl, "myblog.blogspot.com"), "myblog.blogspot.com");
  EXPECT_EQ(org(psl, "www.myblog.blogspot.com"), "myblog.blogspot.com");
  EXPECT_EQ(org(psl, "www.myblog.blogspot.com", PslSections::kIcannOnly), "blogspot.com");
  EXPECT_EQ(org(psl, "user.github.io"), "user.github.io");
  EXPECT_EQ(org(psl, "a.trailing.example"), "a.trailing.example");
}

TEST(DmarcPslTest, InternationalRulesMatchUtf8AndALabels) {
  PublicSuffixList psl = test_list();
  EXPECT_EQ(org(psl, "www.example.公司.cn"), "example.公司.cn");
  EXPECT_EQ(org(psl, "www.example.xn--55qx5d.cn"), "example.xn--55qx5d.cn");
  EXPECT_EQ(*label_to_ascii("bücher"), "xn--bcher-kva");
  EXPECT_EQ(*label_to_ascii("aéroport"), "xn--aroport-bya");
  EXPECT_EQ(*label_to_ascii("рф"), "xn--p1ai");
  EXPECT_EQ(*label_to_ascii("Plain"), "plain");
  EXPECT_FALSE(label_to_ascii("\xC3").ok());
  EXPECT_FALSE(label_to_ascii("\xC0\x80").ok());  // overlong
}

TEST(DmarcPslTest, InvalidDomainsAreErrors) {
  PublicSuffixList psl = test_list();
  EXPECT_FALSE(psl.organizational_domain("").ok());
  EXPECT_FALSE(psl.organizational_domain("a..com").ok());
  EXPECT_FALSE(psl.organizational_domain(".com").ok());
  EXPECT_FALSE(psl.organizational_domain("a b.com").ok());
  EXPECT_FALSE(psl.organizational_domain("[1.2.3.4]").ok());
  EXPECT_FALSE(psl.organizational_domain(std::string(64, 'a') + ".com").ok());
  EXPECT_FALSE(psl.organizational_domain(std::string(250, 'a') + ".com").ok());
  EXPECT_TRUE(psl.organizational_domain(std::string(63, 'a') + ".com").ok());
}

TEST(DmarcPslTest, Limits) {
  PslLimits small;
  small.rules_max = 3;
  EXPECT_EQ(PublicSuffixList::parse("a\nb\nc\n", small)->rule_count(), 3u);
  EXPECT_FALSE(PublicSuffixList::parse("a\nb\nc\nd\n", small).ok());
  small.text_bytes_max = 4;
  EXPECT_FALSE(PublicSuffixList::parse("a\nb\nc\n", small).ok());
  // Malformed rules are skipped.
  Result<PublicSuffixList> psl = PublicSuffixList::parse("a.*.b\n..\n!\n*.\nok\n");
  ASSERT_TRUE(psl.ok());
  EXPECT_EQ(psl->rule_count(), 1u);
}

TEST(DmarcPslTest, DebianFile) {
  std::ifstream in("/usr/share/publicsuffix/public_suffix_list.dat");
  if (!in) {
    GTEST_SKIP() << "the publicsuffix package is not installed";
  }
  std::stringstream text;
  text << in.rdbuf();
  Result<PublicSuffixList> psl = PublicSuffixList::parse(text.str());
  ASSERT_TRUE(psl.ok());
  EXPECT_GT(psl->rule_count(), 5000u);
  EXPECT_EQ(org(*psl, "mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(org(*psl, "www.ck"), "www.ck");
  EXPECT_EQ(org(*psl, "a.b.foo.ck"), "b.foo.ck");
  EXPECT_EQ(org(*psl, "x.y.blogspot.com"), "y.blogspot.com");
  EXPECT_EQ(org(*psl, "x.y.blogspot.com", PslSections::kIcannOnly), "blogspot.com");
  EXPECT_EQ(org(*psl, "foo.bar.city.kawasaki.jp"), "city.kawasaki.jp");
  EXPECT_EQ(org(*psl, "www.example.xn--p1ai"), "example.xn--p1ai");
  EXPECT_EQ(org(*psl, "mail.google.com"), "google.com");
}

}  // namespace
}  // namespace rm::dmarc
