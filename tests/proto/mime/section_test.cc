#include "proto/mime/section.h"

#include <gtest/gtest.h>

#include "tests/proto/mime/test_messages.h"

namespace rm::mime {
namespace {

using Kind = MimeSection::Kind;

std::string section(std::string_view m, std::vector<uint32_t> part, Kind kind,
                    std::vector<std::string> fields = {}) {
  Result<MimeTree> t = parse_mime(m);
  EXPECT_TRUE(t.ok());
  Result<std::string> s = extract_section(*t, m, MimeSection{std::move(part), kind, fields});
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : "<error>";
}

TEST(MimeSectionTest, WholeMessageHeaderAndText) {
  const std::string_view m = testdata::kNested;
  EXPECT_EQ(section(m, {}, Kind::kAll), m);
  EXPECT_EQ(section(m, {}, Kind::kHeader),
            "From: outer@x.test\r\nSubject: fwd\r\nContent-Type: multipart/mixed; "
            "boundary=\"o\"\r\n\r\n");
  EXPECT_EQ(section(m, {}, Kind::kText), m.substr(m.find("\r\n\r\n") + 4));
  EXPECT_EQ(section(m, {}, Kind::kHeaderFields, {"subject", "FROM"}),
            "From: outer@x.test\r\nSubject: fwd\r\n\r\n");
  EXPECT_EQ(section(m, {}, Kind::kHeaderFields, {"X-None"}), "\r\n");
  EXPECT_EQ(section(m, {}, Kind::kHeaderFieldsNot, {"From", "Content-Type"}),
            "Subject: fwd\r\n\r\n");
}

TEST(MimeSectionTest, PartsOfAMultipartAndAnEmbeddedMessage) {
  const std::string_view m = testdata::kNested;
  EXPECT_EQ(section(m, {1}, Kind::kAll), "see attached");
  EXPECT_EQ(section(m, {1}, Kind::kMime), "Content-Type: text/plain\r\n\r\n");
  EXPECT_EQ(section(m, {2}, Kind::kMime), "Content-Type: message/rfc822\r\n\r\n");
  EXPECT_EQ(section(m, {2}, Kind::kAll), "From: inner@y.test\r\nSubject: inner\r\n\r\ninner body");
  EXPECT_EQ(section(m, {2}, Kind::kHeader), "From: inner@y.test\r\nSubject: inner\r\n\r\n");
  EXPECT_EQ(section(m, {2}, Kind::kHeaderFieldsNot, {"From"}), "Subject: inner\r\n\r\n");
  EXPECT_EQ(section(m, {2}, Kind::kText), "inner body");
  EXPECT_EQ(section(m, {2, 1}, Kind::kAll), "inner body");
  EXPECT_EQ(section(m, {1}, Kind::kHeader), "");  // not a message/rfc822 part
  EXPECT_EQ(section(m, {3}, Kind::kAll), "");
  EXPECT_EQ(section(m, {0}, Kind::kAll), "");
  EXPECT_EQ(section(m, {1, 1}, Kind::kAll), "");
  EXPECT_EQ(section(m, {2, 2}, Kind::kAll), "");
}

TEST(MimeSectionTest, NonMultipartMessageHasPartOne) {
  const std::string_view m = testdata::kSimple;
  EXPECT_EQ(section(m, {1}, Kind::kAll), "Hi there.\r\nBye.\r\n");
  EXPECT_EQ(section(m, {2}, Kind::kAll), "");
  Result<MimeTree> t = parse_mime(m);
  EXPECT_FALSE(extract_section(*t, m, MimeSection{{}, Kind::kMime, {}}).ok());
}

TEST(MimeSectionTest, HeaderFieldsKeepFoldingAndEndTheLastLine) {
  const std::string m = "Subject: a\r\n b\r\nTo: x@y\r\n\r\nbody";
  EXPECT_EQ(section(m, {}, Kind::kHeaderFields, {"Subject"}), "Subject: a\r\n b\r\n\r\n");
  EXPECT_EQ(section("To: x@y", {}, Kind::kHeaderFields, {"to"}), "To: x@y\r\n\r\n");
}

TEST(MimeSectionTest, ResolvePart) {
  Result<MimeTree> t = parse_mime(testdata::kNested);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*resolve_mime_part(*t, std::vector<uint32_t>{}), 0u);
  EXPECT_EQ(*resolve_mime_part(*t, std::vector<uint32_t>{2}), 2u);
  EXPECT_EQ(*resolve_mime_part(*t, std::vector<uint32_t>{2, 1}), 3u);
  EXPECT_EQ(resolve_mime_part(*t, std::vector<uint32_t>{4}).status().code(), StatusCode::kNotFound);
}

TEST(MimeSectionTest, DecodePartBody) {
  const std::string_view m = testdata::kMixed;
  Result<MimeTree> t = parse_mime(m);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*decode_part_body(*t, m, 2), "hello");
  EXPECT_EQ(*decode_part_body(*t, m, 1), "text body");
  EXPECT_EQ(decode_part_body(*t, m, 9).status().code(), StatusCode::kInvalidArgument);

  const std::string_view alt = testdata::kAlternative;
  Result<MimeTree> ta = parse_mime(alt);
  EXPECT_EQ(*decode_part_body(*ta, alt, 2), "<p>html=</p>");

  const std::string uu = "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n";
  Result<MimeTree> tu = parse_mime(uu);
  EXPECT_EQ(decode_part_body(*tu, uu, 0).status().code(), StatusCode::kUnsupported);
}

TEST(MimeSectionTest, BodyTextUtf8) {
  const std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n"
      "--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n"
      "--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "PGI+w6k8L2I+\r\n"
      "--b\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n\xC1\r\n"
      "--b--\r\n";
  Result<MimeTree> t = parse_mime(m);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(body_text_utf8(*t, m), "caf\xC3\xA9\n<b>\xC3\xA9</b>\n\xC1");
}

// The IMAP part number of a part whose parent is a multipart. A message/rfc822 part that
// is itself a message (the top, or directly inside another message/rfc822) is not
// multipart, so its body is its part 1.
std::vector<uint32_t> part_path(const MimeTree& t, uint32_t i) {
  std::vector<uint32_t> path;
  for (uint32_t x = i; x != kMimeNoPart; x = t.parts[x].parent) {
    const uint32_t parent = t.parts[x].parent;
    const bool is_message = parent == kMimeNoPart || t.parts[parent].kind == MimePartKind::kMessage;
    if (x != i && is_message && t.parts[x].kind == MimePartKind::kMessage) {
      path.insert(path.begin(), 1);
    }
    if (parent != kMimeNoPart && t.parts[parent].kind == MimePartKind::kMultipart) {
      const std::vector<uint32_t>& c = t.parts[parent].children;
      for (uint32_t k = 0; k < c.size(); ++k) {
        if (c[k] == x) {
          path.insert(path.begin(), k + 1);
        }
      }
    }
  }
  return path;
}

TEST(MimeSectionTest, EveryPartNumberGivesThatPartsBody) {
  const std::string nested_multi =
      "Content-Type: message/rfc822\r\n\r\n"
      "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
      "--a\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
      "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n"  // no close delimiter for b
      "--a\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nthree\r\n--a--\r\n";
  for (std::string_view m :
       {testdata::kSimple, testdata::kAlternative, testdata::kMixed, testdata::kNested,
        testdata::kBrokenLf, std::string_view(nested_multi)}) {
    Result<MimeTree> t = parse_mime(m);
    ASSERT_TRUE(t.ok());
    for (uint32_t i = 1; i < t->parts.size(); ++i) {
      if (t->parts[t->parts[i].parent].kind != MimePartKind::kMultipart) {
        continue;
      }
      const std::vector<uint32_t> path = part_path(*t, i);
      EXPECT_EQ(*resolve_mime_part(*t, path), i);
      const MimePart& p = t->parts[i];
      EXPECT_EQ(*extract_section(*t, m, MimeSection{path, Kind::kAll, {}}),
                m.substr(p.body_offset, p.body_size));
    }
  }
  EXPECT_EQ(section(nested_multi, {1, 1, 2}, Kind::kAll), "two");
  EXPECT_EQ(section(nested_multi, {1, 2, 1}, Kind::kAll), "three");
  EXPECT_EQ(section(nested_multi, {1, 2}, Kind::kHeader), "Subject: s\r\n\r\n");
  EXPECT_EQ(section(nested_multi, {1}, Kind::kHeader),
            "Content-Type: multipart/mixed; boundary=a\r\n\r\n");
}

}  // namespace
}  // namespace rm::mime
