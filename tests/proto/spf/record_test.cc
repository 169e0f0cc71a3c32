#include "proto/spf/record.h"

#include <gtest/gtest.h>

namespace rm::spf {
namespace {

TEST(SpfRecord, Version) {
  EXPECT_TRUE(is_spf_record("v=spf1"));
  EXPECT_TRUE(is_spf_record("V=SpF1 -all"));
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_FALSE(is_spf_record("v=spf1-all"));
  EXPECT_FALSE(is_spf_record("spf1"));
}

TEST(SpfRecord, Mechanisms) {
  Result<Record> r = parse_record(
      "v=spf1 +a -mx:example.org/24//64 ~ptr ?ip4:192.0.2.0/24 ip6:2001:db8::/32 "
      "include:_spf.example.org exists:%{i}.x.example.org a//48 all");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  ASSERT_EQ(r->mechanisms.size(), 9u);
  EXPECT_EQ(r->mechanisms[0].kind, MechanismKind::kA);
  EXPECT_EQ(r->mechanisms[1].qualifier, Qualifier::kFail);
  EXPECT_EQ(r->mechanisms[1].domain_spec, "example.org");
  EXPECT_EQ(r->mechanisms[1].ip4_prefix, 24);
  EXPECT_EQ(r->mechanisms[1].ip6_prefix, 64);
  EXPECT_EQ(r->mechanisms[2].qualifier, Qualifier::kSoftFail);
  EXPECT_EQ(r->mechanisms[3].ip4_prefix, 24);
  EXPECT_EQ(r->mechanisms[4].kind, MechanismKind::kIp6);
  EXPECT_EQ(r->mechanisms[4].ip6_prefix, 32);
  EXPECT_EQ(r->mechanisms[6].domain_spec, "%{i}.x.example.org");
  EXPECT_EQ(r->mechanisms[7].ip4_prefix, 32);
  EXPECT_EQ(r->mechanisms[7].ip6_prefix, 48);
  EXPECT_EQ(r->mechanisms[8].text, "all");
}

TEST(SpfRecord, Modifiers) {
  Result<Record> r = parse_record("v=spf1  redirect=_spf.example.org exp=%{d}.exp.x  foo=bar ");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r->redirect, "_spf.example.org");
  EXPECT_EQ(*r->exp, "%{d}.exp.x");
  EXPECT_TRUE(r->mechanisms.empty());
}

TEST(SpfRecord, SyntaxErrors) {
  for (const char* bad : {"v=spf1 -all.",
                          "v=spf1 -all:foo",
                          "v=spf1 -all/8",
                          "v=spf1 moo",
                          "v=spf1 a:foo-bar",
                          "v=spf1 a:111.222.33.44",
                          "v=spf1 a/33",
                          "v=spf1 a//129",
                          "v=spf1 a/24/64",
                          "v=spf1 a:",
                          "v=spf1 ptr:",
                          "v=spf1 include",
                          "v=spf1 ip4:1.2.3",
                          "v=spf1 ip4:1.2.3.4/33",
                          "v=spf1 ip6:::1/129",
                          "v=spf1 ip4:1.2.3.4/024",
                          "v=spf1 redirect=a.b redirect=c.d",
                          "v=spf1 exp=a.b exp=c.d",
                          "v=spf1 1x=y",
                          "v=spf1 redirect:x.example.org",
                          "v=spf1 exists:%{x}.example.org",
                          "v=spf1 a:ctrl.example.com\rptr",
                          "v=spf1 \x80"
                          "a",
                          "v=spf1 x=%",
                          "v=spf1 a:%{c}.example.org"}) {
    EXPECT_FALSE(parse_record(bad).ok()) << bad;
  }
}

TEST(SpfRecord, DomainEndsWithMacro) {
  EXPECT_TRUE(parse_record("v=spf1 a:%{H}.bar -all").ok());
  EXPECT_TRUE(parse_record("v=spf1 exists:%{l}.%{d}").ok());
  EXPECT_TRUE(parse_record("v=spf1 a:foo.example.xn--zckzah -all").ok());
  EXPECT_TRUE(parse_record("v=spf1 a:mail.example.com. -all").ok());
  // Only a trailing "/N", "//N" or "/N//N" is a prefix length; other slashes are the name's.
  Result<Record> r = parse_record("v=spf1 a:foo:bar/baz.example.com mx:%{d}/24");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->mechanisms[0].domain_spec, "foo:bar/baz.example.com");
  EXPECT_EQ(r->mechanisms[1].domain_spec, "%{d}");
  EXPECT_EQ(r->mechanisms[1].ip4_prefix, 24);
}

TEST(SpfRecord, TooManyTerms) {
  std::string text = "v=spf1";
  for (size_t i = 0; i <= kTermsMax; ++i) {
    text += " ip4:192.0.2.1";
  }
  EXPECT_FALSE(parse_record(text).ok());
}

}  // namespace
}  // namespace rm::spf
