#include <gtest/gtest.h>

#include "proto/mime/charset.h"
#include "proto/mime/content_fields.h"
#include "proto/mime/encoded_word.h"
#include "proto/mime/header.h"
#include "proto/mime/transfer_encoding.h"

namespace rm::mime {
namespace {

TEST(MimeDecodeTest, Base64Lenient) {
  EXPECT_EQ(decode_base64_lenient("aGVs\r\nbG8="), "hello");
  EXPECT_EQ(decode_base64_lenient("aGVsbG8"), "hello");
  EXPECT_EQ(decode_base64_lenient("a!G*V sbG8=garbage"), "hello");
  EXPECT_EQ(decode_base64_lenient(""), "");
}

TEST(MimeDecodeTest, QuotedPrintable) {
  EXPECT_EQ(decode_quoted_printable("a=3Db=\r\nc  \r\nd"), "a=bc\r\nd");
  EXPECT_EQ(decode_quoted_printable("soft=  \nbreak=\n"), "softbreak");
  EXPECT_EQ(decode_quoted_printable("bad=ZZ=4"), "bad=ZZ=4");
  EXPECT_EQ(decode_quoted_printable("a_b=5F", true), "a b_");
  EXPECT_EQ(decode_quoted_printable("trail \t\n"), "trail\n");
}

TEST(MimeDecodeTest, Charsets) {
  EXPECT_EQ(*charset_to_utf8("ISO-8859-1", "caf\xE9"), "caf\xC3\xA9");
  EXPECT_EQ(*charset_to_utf8("windows-1252", "\x80\x81"), "\xE2\x82\xAC\xC2\x81");
  EXPECT_EQ(*charset_to_utf8("UTF-8", "x"), "x");
  EXPECT_FALSE(charset_to_utf8("koi8-r", "x").has_value());
}

TEST(MimeDecodeTest, EncodedWords) {
  EXPECT_EQ(decode_header_value(" =?utf-8?B?Y2Fmw6k=?= =?ISO-8859-1?Q?_au_lait?="),
            "caf\xC3\xA9 au lait");
  EXPECT_EQ(decode_header_value("=?iso-8859-1?q?caf=E9?= au lait"), "caf\xC3\xA9 au lait");
  EXPECT_EQ(decode_header_value("Re: =?utf-8?q?a?=\r\n =?utf-8?q?b?= end"), "Re: ab end");
  EXPECT_EQ(decode_header_value("=?windows-1252?Q?=80?="), "\xE2\x82\xAC");
  EXPECT_EQ(decode_header_value("=?utf-8*en?q?x?="), "x");
  EXPECT_EQ(decode_header_value("=?koi8-r?q?x?= y"), "=?koi8-r?q?x?= y");
  EXPECT_EQ(decode_header_value("=?utf-8?x?abc?="), "=?utf-8?x?abc?=");
  EXPECT_EQ(decode_header_value("a=?utf-8?q?b c?=d"), "a=?utf-8?q?b c?=d");
  EXPECT_EQ(decode_header_value("plain  text"), "plain  text");
}

TEST(MimeDecodeTest, EncodedWordScanIsLinear) {
  std::string s;
  for (int i = 0; i < 200000; ++i) {
    s += "=?a?q?";
  }
  EXPECT_EQ(decode_header_value(s), s);  // finishes quickly
  // Unknown charset, no blank, one "?=" at the very end: every attempt fails cheaply.
  std::string unknown;
  for (int i = 0; i < 100000; ++i) {
    unknown += "=?zz?q?a";
  }
  unknown += "?=";
  EXPECT_EQ(decode_header_value(unknown), unknown);
  // Known charset, a blank before the far "?=".
  std::string blanks;
  for (int i = 0; i < 100000; ++i) {
    blanks += "=?utf-8?q?a b";
  }
  blanks += "?=";
  EXPECT_EQ(decode_header_value(blanks), blanks);
}

TEST(MimeDecodeTest, HeaderFields) {
  const std::string block = "garbage\r\nA: 1\r\n 2\r\n\tcont\r\nb : x\nC:\r\n\r\n";
  HeaderFieldReader r(block);
  HeaderField f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.name, "A");
  EXPECT_EQ(f.raw_value, " 1\r\n 2\r\n\tcont");
  EXPECT_EQ(f.raw, "A: 1\r\n 2\r\n\tcont\r\n");
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.name, "b");
  EXPECT_EQ(f.raw_value, " x");
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f.name, "C");
  EXPECT_EQ(f.raw_value, "");
  EXPECT_FALSE(r.next(f));
  EXPECT_EQ(*find_header_field(block, "a"), " 1\r\n 2\r\n\tcont");
  EXPECT_FALSE(find_header_field(block, "garbage").has_value());
  EXPECT_EQ(unfold_header_value(" 1\r\n 2\r\n\tcont"), "1 2\tcont");
}

TEST(MimeDecodeTest, HeaderBlockSize) {
  EXPECT_EQ(header_block_size("A: b\r\n\r\nbody", 1000), 8u);
  EXPECT_EQ(header_block_size("A: b\n\nbody", 1000), 6u);
  EXPECT_EQ(header_block_size("\r\nbody", 1000), 2u);
  EXPECT_EQ(header_block_size("A: b", 1000), 4u);
  EXPECT_EQ(header_block_size("A: b\r\nC: d", 1000), 10u);
  EXPECT_EQ(header_block_size("A: b\r\nC: d\r\n\r\n", 8), 6u);
}

TEST(MimeDecodeTest, ContentTypeParameters) {
  ContentType ct;
  ASSERT_TRUE(parse_content_type(
      " Text/Plain (comment) ; charset = \"utf-8\" ; format=flowed;;junk; x=\"a\\\"b\"", 64, ct));
  EXPECT_EQ(ct.type, "Text");
  EXPECT_EQ(ct.subtype, "Plain");
  EXPECT_EQ(ct.params,
            (std::vector<MimeParam>{{"charset", "utf-8"}, {"format", "flowed"}, {"x", "a\"b"}}));
  ASSERT_TRUE(parse_content_type("text/plain; charset=us-ascii\r\n (c); name=a b.txt", 64, ct));
  EXPECT_EQ(ct.params, (std::vector<MimeParam>{{"charset", "us-ascii"}, {"name", "a b.txt"}}));
  ASSERT_TRUE(parse_content_type("text/plain; name=a\r\n b", 64, ct));
  EXPECT_EQ(ct.params, (std::vector<MimeParam>{{"name", "a b"}}));
  EXPECT_FALSE(parse_content_type("text", 64, ct));
  EXPECT_FALSE(parse_content_type("", 64, ct));
}

TEST(MimeDecodeTest, Rfc2231) {
  ContentType ct;
  ASSERT_TRUE(parse_content_type(
      "application/x-stuff; title*2=\"c\"; title*0*=us-ascii'en'This%20is%20; title*1=\"b \"", 64,
      ct));
  EXPECT_EQ(ct.params, (std::vector<MimeParam>{{"title", "This is b c"}}));
  ASSERT_TRUE(parse_content_type("a/b; name=\"old\"; name*=iso-8859-1''caf%E9", 64, ct));
  EXPECT_EQ(ct.params, (std::vector<MimeParam>{{"name", "caf\xC3\xA9"}}));
  ASSERT_TRUE(parse_content_type("a/b; n*0=x; n*2=z", 64, ct));  // a gap ends the value
  EXPECT_EQ(ct.params, (std::vector<MimeParam>{{"n", "x"}}));
  ASSERT_TRUE(parse_content_type("a/b; n*x=1; *=2", 64, ct));
  EXPECT_EQ(ct.params, (std::vector<MimeParam>{{"n*x", "1"}, {"*", "2"}}));
}

TEST(MimeDecodeTest, ParamLimit) {
  std::string v = "a/b";
  for (int i = 0; i < 100; ++i) {
    v += "; p" + std::to_string(i) + "=v";
  }
  ContentType ct;
  ASSERT_TRUE(parse_content_type(v, 10, ct));
  EXPECT_EQ(ct.params.size(), 10u);
}

TEST(MimeDecodeTest, DispositionAndLanguage) {
  auto d = parse_content_disposition("attachment; filename=\"a b.txt\"; size=10", 64);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->type, "attachment");
  EXPECT_EQ(d->params.size(), 2u);
  EXPECT_FALSE(parse_content_disposition(" ; x=y", 64).has_value());
  EXPECT_EQ(parse_content_language(" en-US, (c) fr ,de", 64),
            (std::vector<std::string>{"en-US", "fr", "de"}));
  EXPECT_EQ(parse_transfer_encoding(" (c) Base64 "), "Base64");
}

}  // namespace
}  // namespace rm::mime
