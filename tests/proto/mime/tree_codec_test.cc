#include "proto/mime/tree_codec.h"

#include <gtest/gtest.h>

#include <random>

#include "proto/mime/imap_format.h"
#include "proto/mime/section.h"
#include "tests/proto/mime/test_messages.h"

namespace rm::mime {
namespace {

const std::string_view kMessages[] = {testdata::kSimple, testdata::kAlternative, testdata::kMixed,
                                      testdata::kNested, testdata::kBrokenLf};

TEST(MimeTreeCodecTest, RoundTrip) {
  for (std::string_view m : kMessages) {
    Result<MimeTree> t = parse_mime(m);
    ASSERT_TRUE(t.ok());
    const std::string blob = encode_mime_tree(*t);
    Result<MimeTree> back = decode_mime_tree(blob);
    ASSERT_TRUE(back.ok()) << back.status().to_string();
    EXPECT_EQ(*back, *t);
    EXPECT_EQ(imap_bodystructure(*back, m, true), imap_bodystructure(*t, m, true));
    EXPECT_LT(blob.size(), 64u * t->parts.size());
  }
}

TEST(MimeTreeCodecTest, CommonStringsTakeOneByte) {
  const std::string blob = encode_mime_tree(*parse_mime(testdata::kSimple));
  // 3 header bytes, count, parent, kind, flags, 4 offsets (the header size takes 2 bytes),
  // 8 strings, 3 lists and the charset parameter's name and value.
  EXPECT_EQ(blob.size(), 3u + 1 + 1 + 1 + 1 + 5 + 8 + 3 + 2);
  std::string bad = blob;
  bad[12] = static_cast<char>(0x91);  // the type: table index 72, out of range
  bad.insert(13, 1, '\x01');
  EXPECT_FALSE(decode_mime_tree(bad).ok());
}

TEST(MimeTreeCodecTest, SectionsFromTheDecodedTree) {
  const std::string_view m = testdata::kNested;
  Result<MimeTree> back = decode_mime_tree(encode_mime_tree(*parse_mime(m)));
  ASSERT_TRUE(back.ok());
  Result<std::string> s =
      extract_section(*back, m, MimeSection{{2}, MimeSection::Kind::kHeader, {}});
  EXPECT_EQ(*s, "From: inner@y.test\r\nSubject: inner\r\n\r\n");
}

TEST(MimeTreeCodecTest, RejectsWrongMagicVersionAndTruncation) {
  const std::string blob = encode_mime_tree(*parse_mime(testdata::kMixed));
  EXPECT_EQ(decode_mime_tree("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decode_mime_tree("XY\x01").status().code(), StatusCode::kInvalidArgument);
  std::string v2 = blob;
  v2[2] = 2;
  EXPECT_EQ(decode_mime_tree(v2).status().code(), StatusCode::kUnsupported);
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(decode_mime_tree(blob.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(decode_mime_tree(blob + "x").ok());
}

TEST(MimeTreeCodecTest, RejectsBadShapes) {
  MimeTree t = *parse_mime(testdata::kNested);
  MimeTree leafy = t;
  leafy.parts[2].kind = MimePartKind::kLeaf;  // a leaf with a child
  EXPECT_FALSE(decode_mime_tree(encode_mime_tree(leafy)).ok());
  MimeTree empty_multi = *parse_mime(testdata::kSimple);
  empty_multi.parts[0].kind = MimePartKind::kMultipart;  // a multipart without parts
  EXPECT_FALSE(decode_mime_tree(encode_mime_tree(empty_multi)).ok());
  MimeTree forward = t;
  forward.parts[1].parent = 3;  // a parent after its child
  EXPECT_FALSE(decode_mime_tree(encode_mime_tree(forward)).ok());
}

TEST(MimeTreeCodecTest, CorruptBytesNeverCrash) {
  std::mt19937 rng(7);
  for (std::string_view m : kMessages) {
    const std::string blob = encode_mime_tree(*parse_mime(m));
    for (int i = 0; i < 2000; ++i) {
      std::string bad = blob;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        bad[rng() % bad.size()] = static_cast<char>(rng());
      }
      Result<MimeTree> t = decode_mime_tree(bad);
      if (t.ok()) {
        // Whatever decodes must be safe to use with the message.
        (void)imap_bodystructure(*t, m, true);
        (void)extract_section(*t, m, MimeSection{{1, 1}, MimeSection::Kind::kHeader, {}});
        (void)body_text_utf8(*t, m);
      }
    }
  }
}

}  // namespace
}  // namespace rm::mime
