#include "proto/dkim/header_canon.h"

#include <gtest/gtest.h>

namespace rm {
namespace {

std::vector<DkimHeaderField> fields_of(std::string_view block) {
  Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(block);
  EXPECT_TRUE(fields.ok());
  return fields.ok() ? *fields : std::vector<DkimHeaderField>{};
}

std::string canon_all(DkimCanon canon, std::string_view block) {
  std::string out;
  for (const DkimHeaderField& f : fields_of(block)) {
    dkim_canonicalize_header(canon, f.raw, out);
  }
  return out;
}

// RFC 6376 §3.4.5.
constexpr std::string_view kExample = "A: X\r\nB : Y\t\r\n\tZ  \r\n";

TEST(DkimHeaderCanonTest, Rfc6376Examples) {
  EXPECT_EQ(canon_all(DkimCanon::kRelaxed, kExample), "a:X\r\nb:Y Z\r\n");
  EXPECT_EQ(canon_all(DkimCanon::kSimple, kExample), kExample);
}

TEST(DkimHeaderCanonTest, SplitsFieldsAndMessage) {
  DkimMessageParts parts = split_dkim_message("From: a\r\nTo: b\r\n c\r\n\r\nbody\r\n");
  EXPECT_EQ(parts.header_block, "From: a\r\nTo: b\r\n c\r\n");
  EXPECT_EQ(parts.body, "body\r\n");
  std::vector<DkimHeaderField> fields = fields_of(parts.header_block);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[1].name, "To");
  EXPECT_EQ(fields[1].raw, "To: b\r\n c");
  EXPECT_EQ(fields[1].value(), " b\r\n c");
  EXPECT_EQ(split_dkim_message("Subject: no body").body, "");
  EXPECT_EQ(fields_of("no colon here\r\nX: 1\r\n").size(), 1u);
}

TEST(DkimHeaderCanonTest, RelaxedEmptyValueAndNameWhitespace) {
  EXPECT_EQ(canon_all(DkimCanon::kRelaxed, "Subject \t:   \r\n"), "subject:\r\n");
  EXPECT_EQ(canon_all(DkimCanon::kRelaxed, "X:a\t\tb\r\n\r\n"), "x:a b\r\n");
  EXPECT_EQ(canon_all(DkimCanon::kRelaxed, "X: a\rb\r\n c\r\n"),
            "x:a\rb c\r\n");  // a lone CR stays
}

TEST(DkimHeaderCanonTest, SelectsInstancesBottomUp) {
  std::vector<DkimHeaderField> fields =
      fields_of("Received: 1\r\nFrom: a\r\nReceived: 2\r\nfrom: b\r\n");
  std::vector<const DkimHeaderField*> picked =
      dkim_select_headers(fields, {"received", "FROM", "received", "from", "received"});
  ASSERT_EQ(picked.size(), 5u);
  EXPECT_EQ(picked[0]->raw, "Received: 2");
  EXPECT_EQ(picked[1]->raw, "from: b");
  EXPECT_EQ(picked[2]->raw, "Received: 1");
  EXPECT_EQ(picked[3]->raw, "From: a");
  EXPECT_EQ(picked[4], nullptr);
}

TEST(DkimHeaderCanonTest, HeadersToSignOversignFrom) {
  std::vector<DkimHeaderField> fields =
      fields_of("From: a\r\nTo: b\r\nTo: c\r\nX-Mailer: m\r\nSubject: s\r\nList-Id: <l>\r\n");
  EXPECT_EQ(dkim_headers_to_sign(fields, DkimHeaderSelection{}),
            (std::vector<std::string>{"from", "from", "subject", "to", "to", "list-id"}));
  DkimHeaderSelection custom;
  custom.headers = {"From", "Date"};
  custom.oversigned = {"date", "from"};
  EXPECT_EQ(dkim_headers_to_sign(fields, custom),
            (std::vector<std::string>{"from", "from", "date"}));
}

TEST(DkimHeaderCanonTest, RemovesOnlyTheBValue) {
  EXPECT_EQ(dkim_remove_b_value("DKIM-Signature: v=1; bh=abc; b=xyz\r\n zz; d=x"),
            "DKIM-Signature: v=1; bh=abc; b=; d=x");
  EXPECT_EQ(dkim_remove_b_value("DKIM-Signature: v=1; b = abc\r\n\tdef"),
            "DKIM-Signature: v=1; b =");
  EXPECT_EQ(dkim_remove_b_value("DKIM-Signature: v=1"), "DKIM-Signature: v=1");
}

TEST(DkimHeaderCanonTest, RefusesTooManyFields) {
  std::string block;
  for (size_t i = 0; i <= kDkimHeaderFieldsMax; ++i) {
    block += "X: 1\r\n";
  }
  EXPECT_FALSE(split_dkim_header_fields(block).ok());
}

}  // namespace
}  // namespace rm
