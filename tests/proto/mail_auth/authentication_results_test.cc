#include "proto/mail_auth/authentication_results.h"

#include <gtest/gtest.h>

#include "proto/mail_auth/header_fields.h"

namespace rm::mail_auth {
namespace {

TEST(AuthResultsTest, FormatsOneMethod) {
  MethodResult dmarc{"dmarc", "fail", "p=reject dis=none", "", {{"header", "from", "example.com"}}};
  EXPECT_EQ(format_method_result(dmarc), "dmarc=fail (p=reject dis=none) header.from=example.com");
  MethodResult spf{"spf", "pass", "", "", {{"smtp", "mailfrom", "alice@example.com"}}};
  EXPECT_EQ(format_method_result(spf), "spf=pass smtp.mailfrom=alice@example.com");
  MethodResult dkim{"dkim",
                    "fail",
                    "",
                    "signature did not verify",
                    {{"header", "d", "example.com"},
                     {"header", "s", "sel-2024"},
                     {"header", "b", "AbC+/9xy"},
                     {"header", "i", "@example.com"}}};
  EXPECT_EQ(format_method_result(dkim),
            "dkim=fail reason=\"signature did not verify\" header.d=example.com header.s=sel-2024 "
            "header.b=\"AbC+/9xy\" header.i=@example.com");
}

TEST(AuthResultsTest, BuildsAFoldedField) {
  std::vector<MethodResult> results = {
      {"spf", "pass", "", "", {{"smtp", "mailfrom", "bounces@example.com"}}},
      {"dkim",
       "pass",
       "",
       "",
       {{"header", "d", "example.com"}, {"header", "s", "s1"}, {"header", "b", "AAAA1234"}}},
      {"dkim",
       "fail",
       "body hash did not verify",
       "",
       {{"header", "d", "a-rather-long-signing-domain.example.net"},
        {"header", "s", "selector-with-a-long-name"}}},
      {"dmarc", "pass", "p=reject dis=none", "", {{"header", "from", "example.com"}}},
  };
  std::string field = build_authentication_results("mx.example.org", results);
  EXPECT_EQ(field,
            "Authentication-Results: mx.example.org;\r\n"
            "\tspf=pass smtp.mailfrom=bounces@example.com;\r\n"
            "\tdkim=pass header.d=example.com header.s=s1 header.b=AAAA1234;\r\n"
            "\tdkim=fail (body hash did not verify)\r\n"
            "\theader.d=a-rather-long-signing-domain.example.net\r\n"
            "\theader.s=selector-with-a-long-name;\r\n"
            "\tdmarc=pass (p=reject dis=none) header.from=example.com\r\n");
  EXPECT_EQ(build_authentication_results("mx.example.org", {}),
            "Authentication-Results: mx.example.org; none\r\n");
}

TEST(AuthResultsTest, HostileValuesCannotBreakTheField) {
  MethodResult spf{"spf\r\nX-Evil: 1",
                   "pass",
                   "comment (with) \\ parens\r\nX-Evil: 2",
                   "",
                   {{"smtp", "mailfrom", "\"evil\r\nX-Evil: 3\"@example.com"},
                    {"smtp", "helo", "a b"},
                    {"header", "from", ""}}};
  std::string s = format_method_result(spf);
  EXPECT_EQ(
      s,
      "spfX-Evil1=pass (comment \\(with\\) \\\\ parensX-Evil: 2) "
      "smtp.mailfrom=\"\\\"evilX-Evil: 3\\\"@example.com\" smtp.helo=\"a b\" header.from=\"\"");
  EXPECT_EQ(s.find('\r'), std::string::npos);
  EXPECT_EQ(s.find('\n'), std::string::npos);
  // Values are cut, whole UTF-8 characters only, so that no line passes 998 octets.
  std::string big;
  for (int i = 0; i < 400; ++i) {
    big += "é";
  }
  std::string v = format_value(big);
  EXPECT_LE(v.size(), kValueBytesMax + 2);
  EXPECT_EQ(v.back(), '"');
  EXPECT_EQ(v[v.size() - 2], '\xA9');
  std::string field = build_authentication_results(
      "mx.example.org",
      std::vector<MethodResult>{{"x", "y", std::string(5000, '('), big, {{"a", "b", big}}}});
  size_t line_start = 0;
  while (line_start < field.size()) {
    size_t end = field.find("\r\n", line_start);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end - line_start, 998u);
    line_start = end + 2;
  }
  EXPECT_EQ(format_value("\xC3\xA9t\xC3\xA9@example.com"), "\xC3\xA9t\xC3\xA9@example.com");
  EXPECT_EQ(format_value("a..b@example.com"), "\"a..b@example.com\"");
}

TEST(AuthResultsTest, FindsForgedFieldsClaimingOurId) {
  const std::string headers =
      "Received: from x by y\r\n"
      "Authentication-Results: MX.Example.ORG; spf=pass smtp.mailfrom=a@b.c\r\n"
      "Subject: hi\r\n"
      "authentication-results: (sneaky) mx.example.org\r\n"
      "\t1; dkim=pass\r\n"
      "Authentication-Results: other.example.net; spf=fail\r\n"
      "Authentication-Results: \"mx.example.org\"; dmarc=pass\n"
      "Authentication-Results: mx.example.org.evil; dmarc=pass\r\n"
      "Authentication-Results: mx.example.org/x; dmarc=pass\r\n"
      "Authentication-Results:mx.example.org;none\r\n"
      "Authentication-Results: mx.example.org.; none\r\n"
      "X-Authentication-Results: mx.example.org; none\r\n"
      "\r\n"
      "Authentication-Results: mx.example.org; in the body\r\n";
  std::vector<ByteRange> found = find_authentication_results(headers, "mx.example.org");
  ASSERT_EQ(found.size(), 6u);
  std::vector<std::string> texts;
  for (ByteRange r : found) {
    texts.push_back(headers.substr(r.offset, r.size));
  }
  EXPECT_EQ(texts[0], "Authentication-Results: MX.Example.ORG; spf=pass smtp.mailfrom=a@b.c\r\n");
  EXPECT_EQ(texts[1], "authentication-results: (sneaky) mx.example.org\r\n\t1; dkim=pass\r\n");
  EXPECT_EQ(texts[2], "Authentication-Results: \"mx.example.org\"; dmarc=pass\n");
  EXPECT_EQ(texts[3], "Authentication-Results: mx.example.org/x; dmarc=pass\r\n");
  EXPECT_EQ(texts[4], "Authentication-Results:mx.example.org;none\r\n");
  EXPECT_EQ(texts[5], "Authentication-Results: mx.example.org.; none\r\n");
  std::string cleaned = erase_ranges(headers, found);
  EXPECT_EQ(cleaned,
            "Received: from x by y\r\n"
            "Subject: hi\r\n"
            "Authentication-Results: other.example.net; spf=fail\r\n"
            "Authentication-Results: mx.example.org.evil; dmarc=pass\r\n"
            "X-Authentication-Results: mx.example.org; none\r\n"
            "\r\n"
            "Authentication-Results: mx.example.org; in the body\r\n");
  EXPECT_TRUE(find_authentication_results("", "mx.example.org").empty());
  // An unterminated comment ending in a backslash (found by the fuzzer).
  EXPECT_TRUE(
      find_authentication_results("Authentication-Results: (x\\", "mx.example.org").empty());
}

TEST(AuthResultsTest, HeaderFieldReader) {
  const std::string block = " leading fold\r\nA: 1\r\n  cont\r\nno colon\nB : 2\nC:3";
  HeaderFieldReader reader(block);
  std::optional<HeaderField> f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->name.empty());
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "A");
  EXPECT_EQ(f->value, " 1\r\n  cont");
  EXPECT_EQ(block.substr(f->offset, f->size), "A: 1\r\n  cont\r\n");
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->name.empty());
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "B");
  f = reader.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->name, "C");
  EXPECT_EQ(f->value, "3");
  EXPECT_FALSE(reader.next());
  EXPECT_EQ(reader.position(), block.size());
  EXPECT_TRUE(header_name_is("from", "From"));
  EXPECT_FALSE(header_name_is("Fro", "From"));
}

}  // namespace
}  // namespace rm::mail_auth
