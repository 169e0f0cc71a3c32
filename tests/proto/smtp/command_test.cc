#include "proto/smtp/command.h"

#include <gtest/gtest.h>

namespace rm::smtp {
namespace {

ParseResult parse(std::string_view line, ParseContext ctx = {}) { return parse_command(line, ctx); }

void expect_error(std::string_view line, int code, std::string_view status, ParseContext ctx = {}) {
  ParseResult r = parse(line, ctx);
  ASSERT_FALSE(r.command.has_value()) << line;
  EXPECT_EQ(r.error.code, code) << line << " -> " << r.error.text;
  EXPECT_EQ(r.error.status, status) << line;
}

TEST(SmtpCommandTest, VerbsAreCaseInsensitive) {
  for (std::string_view line : {"ehlo client.example", "EHLO client.example", "EhLo client.example"}) {
    ParseResult r = parse(line);
    ASSERT_TRUE(r.command) << line;
    EXPECT_EQ(r.command->verb, Verb::kEhlo);
    EXPECT_EQ(r.command->argument, "client.example");
  }
}

TEST(SmtpCommandTest, UnknownAndEmptyCommands) {
  expect_error("FOO bar", 500, "5.5.2");
  expect_error("", 500, "5.5.2");
  expect_error("MAILFROM:<a@b.c>", 500, "5.5.2");
}

TEST(SmtpCommandTest, MailFromWithParameters) {
  ParseResult r = parse("MAIL FROM:<alice@example.org> SIZE=1000 BODY=8BITMIME RET=HDRS ENVID=abc+2Bdef");
  ASSERT_TRUE(r.command) << r.error.text;
  const Command& c = *r.command;
  EXPECT_EQ(c.verb, Verb::kMail);
  EXPECT_EQ(c.mailbox.local, "alice");
  EXPECT_EQ(c.mailbox.domain, "example.org");
  EXPECT_EQ(c.mail.size, 1000u);
  EXPECT_EQ(c.mail.body, Body::k8BitMime);
  EXPECT_EQ(c.mail.ret, Ret::kHdrs);
  EXPECT_EQ(c.mail.envid, "abc+def");
}

TEST(SmtpCommandTest, NullSenderAndSpaceAfterColon) {
  ParseResult r = parse("MAIL FROM:<>");
  ASSERT_TRUE(r.command);
  EXPECT_TRUE(r.command->null_path);
  r = parse("MAIL FROM: <bob@example.org>");
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->mailbox.address(), "bob@example.org");
}

TEST(SmtpCommandTest, SourceRouteIsDropped) {
  ParseResult r = parse("RCPT TO:<@relay.example:carol@example.org>");
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->mailbox.address(), "carol@example.org");
}

TEST(SmtpCommandTest, QuotedLocalPartAndAddressLiteral) {
  ParseResult r = parse("RCPT TO:<\"john doe\\>x\"@[192.0.2.1]>");
  ASSERT_TRUE(r.command) << r.error.text;
  EXPECT_EQ(r.command->mailbox.local, "\"john doe\\>x\"");
  EXPECT_EQ(r.command->mailbox.domain, "[192.0.2.1]");
  ASSERT_TRUE(parse("RCPT TO:<a@[IPv6:2001:db8::1]>").command);
  expect_error("RCPT TO:<a@[300.1.1.1]>", 501, "5.1.3");
}

TEST(SmtpCommandTest, PostmasterWithoutDomain) {
  ParseResult r = parse("RCPT TO:<Postmaster>");
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->mailbox.local, "postmaster");
  EXPECT_TRUE(r.command->mailbox.domain.empty());
}

TEST(SmtpCommandTest, BadAddresses) {
  expect_error("MAIL FROM:alice@example.org", 501, "5.5.4");
  expect_error("MAIL FROM:<alice>", 501, "5.1.7");
  expect_error("MAIL FROM:<alice@>", 501, "5.1.7");
  expect_error("MAIL FROM:<a..b@example.org>", 501, "5.1.7");
  expect_error("MAIL FROM:<a@-example.org>", 501, "5.1.7");
  expect_error("RCPT TO:<>", 501, "5.1.3");
  expect_error("RCPT TO:<a@b.c", 501, "5.5.4");
  expect_error("RCPT TO:<a@b.c>x", 501, "5.5.4");
  expect_error("RCPT TO:<" + std::string(65, 'a') + "@example.org>", 501, "5.1.3");
  expect_error("RCPT TO:<a@" + std::string(250, 'b') + ".org>", 501, "5.1.3");
}

TEST(SmtpCommandTest, Utf8NeedsSmtpUtf8) {
  expect_error("MAIL FROM:<jürgen@example.org>", 553, "5.6.7");
  ParseResult r = parse("MAIL FROM:<jürgen@bücher.example> SMTPUTF8");
  ASSERT_TRUE(r.command) << r.error.text;
  EXPECT_TRUE(r.command->mail.smtputf8);
  EXPECT_TRUE(r.command->mailbox.utf8);
  ParseContext ctx;
  expect_error("RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>", 553, "5.6.7", ctx);
  ctx.utf8_transaction = true;
  EXPECT_TRUE(parse("RCPT TO:<δοκιμή@παράδειγμα.δοκιμή>", ctx).command);
  expect_error("RCPT TO:<\xff\xfe@example.org>", 501, "5.1.3", ctx);  // not UTF-8
}

TEST(SmtpCommandTest, SizeLimitAndParameterErrors) {
  ParseContext ctx;
  ctx.size_max = 1000;
  expect_error("MAIL FROM:<a@b.c> SIZE=1001", 552, "5.3.4", ctx);
  EXPECT_TRUE(parse("MAIL FROM:<a@b.c> SIZE=1000", ctx).command);
  expect_error("MAIL FROM:<a@b.c> SIZE=abc", 501, "5.5.4");
  expect_error("MAIL FROM:<a@b.c> SIZE=1 SIZE=2", 501, "5.5.4");
  expect_error("MAIL FROM:<a@b.c> FROB=1", 555, "5.5.4");
  expect_error("MAIL FROM:<a@b.c> BODY=9BIT", 501, "5.5.4");
  ParseContext helo;
  helo.esmtp = false;
  expect_error("MAIL FROM:<a@b.c> SIZE=10", 555, "5.5.4", helo);
}

TEST(SmtpCommandTest, DsnRecipientParameters) {
  ParseResult r = parse("RCPT TO:<d@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;d+40example.org");
  ASSERT_TRUE(r.command) << r.error.text;
  EXPECT_EQ(r.command->rcpt.notify, kNotifySuccess | kNotifyDelay);
  EXPECT_EQ(r.command->rcpt.orcpt, "rfc822;d@example.org");
  expect_error("RCPT TO:<d@example.org> NOTIFY=NEVER,SUCCESS", 501, "5.5.4");
  expect_error("RCPT TO:<d@example.org> ORCPT=nosemicolon", 501, "5.5.4");
  ParseContext no_dsn;
  no_dsn.dsn = false;
  expect_error("RCPT TO:<d@example.org> NOTIFY=NEVER", 555, "5.5.4", no_dsn);
}

TEST(SmtpCommandTest, Bdat) {
  ParseResult r = parse("BDAT 1024 LAST");
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->chunk_size, 1024u);
  EXPECT_TRUE(r.command->last);
  r = parse("bdat 0");
  ASSERT_TRUE(r.command);
  EXPECT_FALSE(r.command->last);
  expect_error("BDAT", 501, "5.5.4");
  expect_error("BDAT 12 FIRST", 501, "5.5.4");
  expect_error("BDAT 123456789012345678901", 501, "5.5.4");
}

TEST(SmtpCommandTest, ArgumentRules) {
  expect_error("DATA now", 501, "5.5.4");
  expect_error("QUIT please", 501, "5.5.4");
  expect_error("EHLO", 501, "5.5.4");
  expect_error("VRFY", 501, "5.5.4");
  EXPECT_TRUE(parse("NOOP anything goes").command);
  EXPECT_TRUE(parse("HELP").command);
}

TEST(SmtpCommandTest, VerbTableFlags) {
  EXPECT_TRUE(verb_info(Verb::kData).flags & kLastInGroup);
  EXPECT_FALSE(verb_info(Verb::kRcpt).flags & kLastInGroup);
  EXPECT_TRUE(verb_info(Verb::kStartTls).flags & kBeforeTls);
  EXPECT_FALSE(verb_info(Verb::kMail).flags & kBeforeTls);
  for (const VerbInfo& v : verbs()) {
    EXPECT_EQ(&verb_info(v.verb), &v);
  }
}

TEST(SmtpCommandTest, Xtext) {
  std::string out;
  EXPECT_TRUE(decode_xtext("a+2Bb+3Dc", out));
  EXPECT_EQ(out, "a+b=c");
  EXPECT_FALSE(decode_xtext("a+2", out));
  EXPECT_FALSE(decode_xtext("a+zz", out));
  EXPECT_FALSE(decode_xtext("a=b", out));
}

}  // namespace
}  // namespace rm::smtp
