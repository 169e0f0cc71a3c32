#include "proto/spf/macro.h"

#include <gtest/gtest.h>

namespace rm::spf {
namespace {

IpAddress ip(const char* text) {
  return *parse_ip(text);
}

MacroContext example(const IpAddress& address) {
  MacroContext c;
  c.sender = "strong-bad@email.example.com";
  c.local_part = "strong-bad";
  c.sender_domain = "email.example.com";
  c.domain = "email.example.com";
  c.ip = address;
  c.helo = "mx.example.org";
  c.receiver = "mail.example.net";
  c.now_unix_s = 1700000000;
  return c;
}

std::string expand(std::string_view text, MacroMode mode = MacroMode::kDomainSpec,
                   const char* address = "192.0.2.3") {
  Result<std::string> out = expand_macro_string(text, example(ip(address)), mode);
  return out.ok() ? *out : "ERROR: " + std::string(out.status().message());
}

// RFC 7208 §7.4.
TEST(SpfMacro, RfcExamples) {
  EXPECT_EQ(expand("%{s}"), "strong-bad@email.example.com");
  EXPECT_EQ(expand("%{o}"), "email.example.com");
  EXPECT_EQ(expand("%{d}"), "email.example.com");
  EXPECT_EQ(expand("%{d4}"), "email.example.com");
  EXPECT_EQ(expand("%{d3}"), "email.example.com");
  EXPECT_EQ(expand("%{d2}"), "example.com");
  EXPECT_EQ(expand("%{d1}"), "com");
  EXPECT_EQ(expand("%{dr}"), "com.example.email");
  EXPECT_EQ(expand("%{d2r}"), "example.email");
  EXPECT_EQ(expand("%{l}"), "strong-bad");
  EXPECT_EQ(expand("%{l-}"), "strong.bad");
  EXPECT_EQ(expand("%{lr}"), "strong-bad");
  EXPECT_EQ(expand("%{lr-}"), "bad.strong");
  EXPECT_EQ(expand("%{l1r-}"), "strong");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}"), "3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp._spf.%{d2}"), "bad.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}"),
            "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
  EXPECT_EQ(expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}"),
            "3.2.0.192.in-addr.strong.lp._spf.example.com");
  EXPECT_EQ(expand("%{d2}.trusted-domains.example.net"), "example.com.trusted-domains.example.net");
  EXPECT_EQ(expand("%{ir}.%{v}._spf.%{d2}", MacroMode::kDomainSpec, "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com");
}

TEST(SpfMacro, EscapesAndUpperCase) {
  EXPECT_EQ(expand("a%%b%_c%-d"), "a%b c%20d");
  EXPECT_EQ(expand("%{S}"), "strong-bad%40email.example.com");
  EXPECT_EQ(expand("%{L}"), "strong-bad");
}

TEST(SpfMacro, ExplanationOnlyLetters) {
  EXPECT_EQ(expand("%{c} %{r} %{t}", MacroMode::kExplanation),
            "192.0.2.3 mail.example.net 1700000000");
  EXPECT_EQ(expand("%{c}", MacroMode::kExplanation, "2001:db8::1"), "2001:db8::1");
  EXPECT_NE(expand("%{c}").find("ERROR"), std::string::npos);
  EXPECT_NE(expand("a b").find("ERROR"), std::string::npos);
  EXPECT_EQ(expand("a b", MacroMode::kExplanation), "a b");
}

TEST(SpfMacro, SyntaxErrors) {
  for (const char* bad : {"%", "%{", "%{s", "%{x}", "%{s0}", "%{s?}", "%a", "%{}", "é"}) {
    EXPECT_FALSE(check_macro_string(bad, MacroMode::kDomainSpec).ok()) << bad;
  }
  EXPECT_TRUE(check_macro_string("%{d2r+-}.%{i}._x", MacroMode::kDomainSpec).ok());
}

TEST(SpfMacro, LargeDigitKeepsEverything) {
  EXPECT_EQ(expand("%{d99999999999999999999}"), "email.example.com");
}

TEST(SpfMacro, ExpansionIsBounded) {
  std::string many;
  for (int i = 0; i < 1000; ++i) {
    many += "%{s}";
  }
  EXPECT_FALSE(expand_macro_string(many, example(ip("192.0.2.3")), MacroMode::kDomainSpec).ok());
}

TEST(SpfMacro, UsesAndReverseName) {
  EXPECT_TRUE(uses_macro("x.%{P}.y", 'p'));
  EXPECT_FALSE(uses_macro("x.%{d}.y", 'p'));
  EXPECT_EQ(reverse_name(ip("192.0.2.3")), "3.2.0.192.in-addr.arpa");
  EXPECT_EQ(reverse_name(ip("2001:db8::1")),
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

}  // namespace
}  // namespace rm::spf
