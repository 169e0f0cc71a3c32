#include <gtest/gtest.h>

#include <string>

#include "proto/mime/address_list.h"
#include "proto/mime/imap_format.h"
#include "tests/proto/mime/test_messages.h"

namespace rm::mime {
namespace {

std::string addresses(std::string_view value) {
  std::string out;
  for (const ImapAddress& a : parse_address_list(value, 1000)) {
    out += "(";
    append_imap_nstring(out, a.name);
    out += " ";
    append_imap_nstring(out, a.adl);
    out += " ";
    append_imap_nstring(out, a.mailbox);
    out += " ";
    append_imap_nstring(out, a.host);
    out += ")";
  }
  return out;
}

TEST(MimeEnvelopeTest, SimpleMessage) {
  EXPECT_EQ(imap_envelope(testdata::kSimple),
            "(\"Tue, 1 Jul 2003 10:52:37 +0200\" \"Hello\" "
            "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
            "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
            "((\"Joe Q. Public\" NIL \"john.q.public\" \"example.com\")) "
            "((\"Mary Smith\" NIL \"mary\" \"x.test\")(NIL NIL \"jdoe\" \"example.org\")"
            "(\"Who?\" NIL \"one\" \"y.test\")) "
            "((NIL NIL \"boss\" \"nil.test\")(\"Giant; \\\"Big\\\" Box\" NIL \"sysservices\" "
            "\"example.net\")) NIL NIL \"<5678.21-Nov-1997@example.com>\")");
}

TEST(MimeEnvelopeTest, AbsentFieldsAreNilAndSenderDefaultsToFrom) {
  EXPECT_EQ(imap_envelope("Subject: \r\n\r\n"), "(NIL \"\" NIL NIL NIL NIL NIL NIL NIL NIL)");
  EXPECT_EQ(
      imap_envelope("From: a@b.c\r\nSender: s@b.c\r\nIn-Reply-To: <x@y>\r\n\r\n"),
      "(NIL NIL ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"s\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) "
      "NIL NIL NIL \"<x@y>\" NIL)");
}

TEST(MimeEnvelopeTest, FoldedValuesAreUnfoldedAndEncodedWordsKept) {
  EXPECT_EQ(imap_envelope("Subject: =?utf-8?q?caf=C3=A9?=\r\n  and more\r\nX: y\r\n"),
            "(NIL \"=?utf-8?q?caf=C3=A9?=  and more\" NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(MimeEnvelopeTest, EightBitSubjectIsALiteral) {
  EXPECT_EQ(imap_envelope("Subject: caf\xC3\xA9\r\n"),
            "(NIL {5}\r\ncaf\xC3\xA9 NIL NIL NIL NIL NIL NIL NIL NIL)");
}

TEST(MimeEnvelopeTest, Groups) {
  EXPECT_EQ(
      addresses("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;"),
      "(NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
      "(NIL NIL \"joe\" \"where.test\")(\"John\" NIL \"jdoe\" \"one.test\")(NIL NIL NIL NIL)");
  EXPECT_EQ(addresses("Undisclosed recipients:;"),
            "(NIL NIL \"Undisclosed recipients\" NIL)(NIL NIL NIL NIL)");
  EXPECT_EQ(addresses("g: a@b.c"), "(NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b.c\")(NIL NIL NIL NIL)");
}

TEST(MimeEnvelopeTest, RouteCommentsAndMissingDomain) {
  EXPECT_EQ(addresses("<@a.test,@b.test:joe@c.test>"),
            "(NIL \"@a.test,@b.test\" \"joe\" \"c.test\")");
  EXPECT_EQ(addresses("joe@x.test (Joe Bloggs)"), "(\"Joe Bloggs\" NIL \"joe\" \"x.test\")");
  EXPECT_EQ(addresses("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>"),
            "(\"Pete\" NIL \"pete\" \"silly.test\")");
  EXPECT_EQ(addresses("undisclosed"), "(NIL NIL \"undisclosed\" NIL)");
  EXPECT_EQ(addresses("\"john doe\"@x.test"), "(NIL NIL \"\\\"john doe\\\"\" \"x.test\")");
  EXPECT_EQ(addresses("Broken <a@b.c"), "(\"Broken\" NIL \"a\" \"b.c\")");
  EXPECT_EQ(addresses("john . doe @ example . org"), "(NIL NIL \"john.doe\" \"example.org\")");
  EXPECT_EQ(addresses(",,, ;"), "");
  EXPECT_EQ(addresses("a@[127.0.0.1]"), "(NIL NIL \"a\" \"[127.0.0.1]\")");
}

TEST(MimeEnvelopeTest, AddressLimit) {
  std::string many;
  for (int i = 0; i < 50; ++i) {
    many += "a@b.c,";
  }
  EXPECT_EQ(parse_address_list(many, 7).size(), 7u);
}

TEST(MimeEnvelopeTest, ImapStrings) {
  std::string out;
  append_imap_string(out, std::string_view("a\"b\\c\0d", 7));
  EXPECT_EQ(out, "\"a\\\"b\\\\cd\"");
  out.clear();
  append_imap_string(out, "two\r\nlines");
  EXPECT_EQ(out, "{10}\r\ntwo\r\nlines");
}

}  // namespace
}  // namespace rm::mime
