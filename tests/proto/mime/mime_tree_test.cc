#include "proto/mime/mime_tree.h"

#include <gtest/gtest.h>

#include <string>

#include "proto/mime/imap_format.h"
#include "tests/proto/mime/test_messages.h"

namespace rm::mime {
namespace {

MimeTree parse(std::string_view m, const MimeLimits& limits = {}) {
  Result<MimeTree> t = parse_mime(m, limits);
  EXPECT_TRUE(t.ok());
  return t.ok() ? *t : MimeTree{};
}

std::string bodystructure(std::string_view m, bool ext = true) {
  return imap_bodystructure(parse(m), m, ext);
}

TEST(MimeTreeTest, SimpleTextMessage) {
  const MimeTree t = parse(testdata::kSimple);
  ASSERT_EQ(t.parts.size(), 1u);
  const MimePart& p = t.parts[0];
  EXPECT_EQ(p.kind, MimePartKind::kLeaf);
  EXPECT_EQ(p.body_size, 17u);
  EXPECT_EQ(p.body_lines, 2u);
  EXPECT_EQ(p.body_offset, p.header_offset + p.header_size);
  EXPECT_EQ(testdata::kSimple.substr(p.body_offset), "Hi there.\r\nBye.\r\n");
  EXPECT_EQ(
      bodystructure(testdata::kSimple),
      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 17 2 NIL NIL NIL NIL)");
  EXPECT_EQ(bodystructure(testdata::kSimple, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 17 2)");
}

TEST(MimeTreeTest, MultipartAlternative) {
  const MimeTree t = parse(testdata::kAlternative);
  ASSERT_EQ(t.parts.size(), 3u);
  EXPECT_EQ(t.parts[0].kind, MimePartKind::kMultipart);
  EXPECT_EQ(t.parts[0].children, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(t.parts[1].parent, 0u);
  EXPECT_EQ(t.parts[1].depth, 1u);
  EXPECT_EQ(bodystructure(testdata::kAlternative),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 5 1 NIL NIL NIL NIL)"
            "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 14 1 NIL NIL "
            "NIL NIL) \"alternative\" (\"boundary\" \"XX\") NIL NIL NIL)");
  EXPECT_EQ(bodystructure(testdata::kAlternative, false),
            "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7BIT\" 5 1)"
            "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 14 1) "
            "\"alternative\")");
}

TEST(MimeTreeTest, MixedWithAttachmentAndRfc2231Filename) {
  const MimeTree t = parse(testdata::kMixed);
  ASSERT_EQ(t.parts.size(), 3u);
  const MimePart& a = t.parts[2];
  EXPECT_EQ(a.disposition, "attachment");
  ASSERT_EQ(a.disposition_params.size(), 1u);
  EXPECT_EQ(a.disposition_params[0].name, "filename");
  EXPECT_EQ(a.disposition_params[0].value, "\xE2\x82\xACuro.pdf");
  EXPECT_EQ(a.languages, (std::vector<std::string>{"en", "fr"}));
  EXPECT_EQ(
      bodystructure(testdata::kMixed),
      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 9 1 NIL NIL NIL NIL)"
      "(\"application\" \"pdf\" (\"name\" \"r.pdf\") \"<id1@x>\" \"A report\" \"base64\" 8 "
      "\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" {10}\r\n\xE2\x82\xACuro.pdf)) "
      "(\"en\" \"fr\") \"http://x.test/r.pdf\") \"mixed\" (\"boundary\" \"b1\") NIL NIL NIL)");
}

TEST(MimeTreeTest, NestedMessageRfc822) {
  const MimeTree t = parse(testdata::kNested);
  ASSERT_EQ(t.parts.size(), 4u);
  EXPECT_EQ(t.parts[2].kind, MimePartKind::kMessage);
  EXPECT_EQ(t.parts[2].children, (std::vector<uint32_t>{3}));
  EXPECT_EQ(t.parts[3].depth, 2u);
  EXPECT_EQ(
      bodystructure(testdata::kNested),
      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 12 1 NIL NIL NIL NIL)"
      "(\"message\" \"rfc822\" NIL NIL NIL \"7BIT\" 48 (NIL \"inner\" ((NIL NIL \"inner\" "
      "\"y.test\")) ((NIL NIL \"inner\" \"y.test\")) ((NIL NIL \"inner\" \"y.test\")) NIL NIL "
      "NIL NIL NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL "
      "NIL NIL NIL) 4 NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"o\") NIL NIL NIL)");
}

TEST(MimeTreeTest, LfOnlyAndMissingCloseBoundary) {
  const MimeTree t = parse(testdata::kBrokenLf);
  ASSERT_EQ(t.parts.size(), 3u);
  EXPECT_EQ(bodystructure(testdata::kBrokenLf, false),
            "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 5 1)"
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 12 2) \"mixed\")");
}

TEST(MimeTreeTest, MultipartWithoutBoundaryIsTextPlain) {
  const std::string m = "Content-Type: multipart/mixed\r\n\r\nbody\r\n";
  EXPECT_EQ(bodystructure(m, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 6 1)");
  // A boundary that never appears: no parts, so text/plain too.
  const std::string none = "Content-Type: multipart/mixed; boundary=q\r\n\r\nbody\r\n";
  EXPECT_EQ(bodystructure(none, false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\" \"boundary\" \"q\") NIL NIL \"7BIT\" 6 "
            "1)");
}

TEST(MimeTreeTest, HeaderWithoutBodyGarbageAndNul) {
  EXPECT_EQ(bodystructure("Subject: x", false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)");
  EXPECT_EQ(bodystructure("", false),
            "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7BIT\" 0 0)");
  const std::string m = std::string("garbage line\r\nContent-Type: text/x-y\r\n\r\nab") +
                        std::string("\0c", 2) + std::string("\0", 1);
  const MimeTree t = parse(m);
  ASSERT_EQ(t.parts.size(), 1u);
  EXPECT_EQ(t.parts[0].subtype, "x-y");
  EXPECT_EQ(t.parts[0].body_size, 5u);
  EXPECT_EQ(t.parts[0].body_lines, 1u);
}

TEST(MimeTreeTest, DigestPartsDefaultToMessage) {
  const std::string m =
      "Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\nSubject: one\r\n\r\nbody\r\n"
      "--d--\r\n";
  const MimeTree t = parse(m);
  ASSERT_EQ(t.parts.size(), 3u);
  EXPECT_EQ(t.parts[1].type, "message");
  EXPECT_EQ(t.parts[1].kind, MimePartKind::kMessage);
}

std::string nested_multiparts(int levels) {
  std::string open;
  std::string close;
  for (int i = 0; i < levels; ++i) {
    const std::string b = "b" + std::to_string(i);
    open += "Content-Type: multipart/mixed; boundary=" + b + "\r\n\r\n--" + b + "\r\n";
    close = "\r\n--" + b + "--\r\n" + close;
  }
  return open + "\r\nleaf" + close;
}

TEST(MimeTreeTest, DepthLimitMakesAnOpaqueLeaf) {
  const std::string m = nested_multiparts(30);
  MimeLimits limits;
  limits.depth_max = 5;
  const MimeTree t = parse(m, limits);
  ASSERT_EQ(t.parts.size(), 6u);
  const MimePart& last = t.parts.back();
  EXPECT_EQ(last.depth, 5u);
  EXPECT_TRUE(last.truncated);
  EXPECT_EQ(last.type, "application");
  EXPECT_EQ(last.kind, MimePartKind::kLeaf);
  EXPECT_EQ(parse(m).parts.size(), 21u);  // depths 0 to 20, the last one opaque
}

TEST(MimeTreeTest, PartLimitStopsAddingParts) {
  std::string m = "Content-Type: multipart/mixed; boundary=x\r\n\r\n";
  for (int i = 0; i < 50; ++i) {
    m += "--x\r\n\r\npart\r\n";
  }
  m += "--x--\r\n";
  MimeLimits limits;
  limits.parts_max = 10;
  const MimeTree t = parse(m, limits);
  EXPECT_EQ(t.parts.size(), 10u);
  EXPECT_TRUE(t.parts[0].truncated);
  EXPECT_EQ(parse(m).parts.size(), 51u);
}

TEST(MimeTreeTest, HeaderByteLimitLeavesTheRestAsBody) {
  std::string m;
  for (int i = 0; i < 100; ++i) {
    m += "X-Filler: 0123456789\r\n";
  }
  m += "Content-Type: multipart/mixed; boundary=x\r\n\r\nbody\r\n";
  MimeLimits limits;
  limits.header_bytes_max = 100;
  const MimeTree t = parse(m, limits);
  ASSERT_EQ(t.parts.size(), 1u);
  EXPECT_EQ(t.parts[0].header_size, 88u);  // four whole lines
  EXPECT_EQ(t.parts[0].type, "text");
}

TEST(MimeTreeTest, BoundaryMustStartALine) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx --b y\r\n--b--\r\n";
  const MimeTree t = parse(m);
  ASSERT_EQ(t.parts.size(), 2u);
  EXPECT_EQ(t.parts[1].body_size, 7u);
}

TEST(MimeTreeTest, ALongerBoundaryDoesNotMatch) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\none\r\n--bx\r\n--b \t\r\n\r\n"
      "two\r\n--b--  \r\nepilogue";
  const MimeTree t = parse(m);
  ASSERT_EQ(t.parts.size(), 3u);
  EXPECT_EQ(m.substr(t.parts[1].body_offset, t.parts[1].body_size), "one\r\n--bx");
  EXPECT_EQ(m.substr(t.parts[2].body_offset, t.parts[2].body_size), "two");
}

TEST(MimeTreeTest, EncodedMessageRfc822IsALeaf) {
  const std::string m =
      "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: "
      "base64\r\n\r\nU3ViamVjdDogeA==\r\n";
  const MimeTree t = parse(m);
  ASSERT_EQ(t.parts.size(), 1u);
  EXPECT_EQ(t.parts[0].kind, MimePartKind::kLeaf);
  EXPECT_EQ(t.parts[0].type, "application");  // BODYSTRUCTURE has no envelope to give
  EXPECT_FALSE(t.parts[0].truncated);
}

// Shapes that would be slow with a careless scan; each must parse in about linear time.
TEST(MimeTreeTest, LargeAdversarialInputs) {
  const std::string head = "Content-Type: multipart/mixed; boundary=b\r\n\r\n";
  std::string near_misses = head;
  std::string many_parts = head;
  std::string fields;
  while (near_misses.size() < (4u << 20)) {
    near_misses += "--bx\n--\n";
    many_parts += "--b\n";
    fields += "a:\n";
  }
  EXPECT_EQ(parse(near_misses).parts.size(), 1u);  // no delimiter: text/plain
  const MimeTree t = parse(many_parts);
  EXPECT_EQ(t.parts.size(), 1000u);
  EXPECT_TRUE(t.parts[0].truncated);
  const MimeTree f = parse(fields);
  EXPECT_LE(f.parts[0].header_size, MimeLimits{}.header_bytes_max);
  EXPECT_FALSE(imap_envelope(fields).empty());
}

}  // namespace
}  // namespace rm::mime
