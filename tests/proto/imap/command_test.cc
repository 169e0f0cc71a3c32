#include "proto/imap/command.h"

#include <gtest/gtest.h>

namespace rm::imap {
namespace {

ImapCommand parse_ok(std::string_view text, ParseOptions options = {}) {
  ParseResult r = parse_imap_command(text, options);
  EXPECT_TRUE(r.command.has_value()) << text << " -> " << r.error.text;
  return r.command ? std::move(*r.command) : ImapCommand{};
}

ParseError parse_error(std::string_view text, ParseOptions options = {}) {
  ParseResult r = parse_imap_command(text, options);
  EXPECT_FALSE(r.command.has_value()) << text;
  return r.error;
}

TEST(ImapCommandTest, SimpleCommands) {
  struct Case {
    std::string_view text;
    CommandKind kind;
  };
  for (const Case& c :
       {Case{"a001 CAPABILITY", CommandKind::kCapability}, Case{"a002 noop", CommandKind::kNoop},
        Case{"A023 LOGOUT", CommandKind::kLogout}, Case{"a001 STARTTLS", CommandKind::kStartTls},
        Case{"A002 NAMESPACE", CommandKind::kNamespace}, Case{"FXXZ CHECK", CommandKind::kCheck},
        Case{"A341 CLOSE", CommandKind::kClose}, Case{"A342 UNSELECT", CommandKind::kUnselect},
        Case{"A202 EXPUNGE", CommandKind::kExpunge}, Case{"a002 IDLE", CommandKind::kIdle}}) {
    ImapCommand cmd = parse_ok(c.text);
    EXPECT_EQ(cmd.kind, c.kind) << c.text;
    EXPECT_FALSE(cmd.uid);
  }
  EXPECT_EQ(parse_ok("a1 NOOP").tag, "a1");
}

TEST(ImapCommandTest, ErrorsCarryTheTag) {
  ParseError e = parse_error("a1 FROB x");
  EXPECT_EQ(e.tag, "a1");
  EXPECT_EQ(e.kind, ParseErrorKind::kUnknownCommand);
  e = parse_error("a2 NOOP extra");
  EXPECT_EQ(e.tag, "a2");
  EXPECT_EQ(e.kind, ParseErrorKind::kSyntax);
  EXPECT_FALSE(e.text.empty());
  e = parse_error("");
  EXPECT_EQ(e.tag, "");
  EXPECT_EQ(parse_error("* NOOP").tag, "");
  EXPECT_EQ(parse_error("a+b NOOP").tag, "");
  EXPECT_EQ(parse_error("a3").tag, "a3");
  EXPECT_EQ(parse_error("a4 UID NOOP").kind, ParseErrorKind::kUnknownCommand);
  EXPECT_EQ(parse_error("a5  NOOP").tag, "a5");
  EXPECT_EQ(parse_error(std::string(kTagBytesMax + 1, 't') + " NOOP").tag, "");
}

TEST(ImapCommandTest, ErrorResponses) {
  EXPECT_EQ(error_response(parse_error("a1 FROB")), "a1 BAD Unknown command\r\n");
  EXPECT_EQ(error_response(parse_error("+ FROB")), "* BAD Missing or invalid tag\r\n");
  EXPECT_EQ(error_response(parse_error("a2 SEARCH CHARSET X ALL")),
            "a2 BAD [BADCHARSET] Unsupported charset\r\n");
  ImapReaderLimits limits;
  limits.append_literal_bytes_max = 10;
  ImapCommandReader reader(limits);
  reader.feed("a3 APPEND INBOX {11}\r\n");
  ASSERT_EQ(reader.next(), ReaderEvent::kError);
  EXPECT_EQ(error_response(reader.error()), "a3 NO [TOOBIG] Literal too big\r\n");
}

TEST(ImapCommandTest, LoginWithQuotedAndLiteral) {
  ImapCommand cmd = parse_ok("a001 LOGIN SMITH SESAME");
  EXPECT_EQ(cmd.login.user, "SMITH");
  EXPECT_EQ(cmd.login.password, "SESAME");
  cmd = parse_ok("A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man");
  EXPECT_EQ(cmd.login.user, "FRED FOOBAR");
  EXPECT_EQ(cmd.login.password, "fat man");
  cmd = parse_ok("a LOGIN \"a\\\"b\" {3+}\r\n\\x\"");
  EXPECT_EQ(cmd.login.user, "a\"b");
  EXPECT_EQ(cmd.login.password, "\\x\"");
  parse_error("a LOGIN \"a\\b\" x");      // bad escape
  parse_error("a LOGIN {5}\r\nab");       // short literal
  parse_error("a LOGIN \"unterminated");  // no closing quote
  parse_error("a LOGIN onlyuser");
}

TEST(ImapCommandTest, Authenticate) {
  ImapCommand cmd = parse_ok("A001 AUTHENTICATE plain");
  EXPECT_EQ(cmd.authenticate.mechanism, "PLAIN");
  EXPECT_FALSE(cmd.authenticate.initial_response);
  cmd = parse_ok("a AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=");
  EXPECT_EQ(cmd.authenticate.initial_response, "dGVzdAB0ZXN0AHRlc3Q=");
  cmd = parse_ok("a AUTHENTICATE EXTERNAL =");
  EXPECT_EQ(cmd.authenticate.initial_response, "=");
  parse_error("a AUTHENTICATE PLAIN abc!");
}

TEST(ImapCommandTest, IdAndEnable) {
  ImapCommand cmd = parse_ok("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"x\" NIL)");
  ASSERT_EQ(cmd.id.fields.size(), 3u);
  EXPECT_EQ(cmd.id.fields[0].first, "name");
  EXPECT_EQ(cmd.id.fields[1].second, "19.34");
  EXPECT_FALSE(cmd.id.fields[2].second);
  EXPECT_TRUE(parse_ok("a ID NIL").id.fields.empty());
  cmd = parse_ok("t2 ENABLE CONDSTORE utf8=accept");
  EXPECT_EQ(cmd.enable, (std::vector<std::string>{"CONDSTORE", "UTF8=ACCEPT"}));
  parse_error("t2 ENABLE");
}

TEST(ImapCommandTest, SelectAndMailboxNames) {
  ImapCommand cmd = parse_ok("A142 SELECT inbox");
  EXPECT_EQ(cmd.kind, CommandKind::kSelect);
  EXPECT_EQ(cmd.mailbox, "INBOX");
  EXPECT_FALSE(cmd.condstore);
  cmd = parse_ok("A932 EXAMINE blurdybloop (CONDSTORE)");
  EXPECT_EQ(cmd.kind, CommandKind::kExamine);
  EXPECT_TRUE(cmd.condstore);
  cmd = parse_ok("a SELECT \"Inbox/Sub Folder\"");
  EXPECT_EQ(cmd.mailbox, "INBOX/Sub Folder");
  cmd = parse_ok("a SELECT {4}\r\nDr\xC3\xA4");
  EXPECT_EQ(cmd.mailbox, "Dr\xC3\xA4");
  // rev1 client: modified UTF-7 is decoded; raw 8-bit is refused.
  ParseOptions rev1;
  rev1.utf8 = false;
  EXPECT_EQ(parse_ok("a SELECT Entw&APw-rfe", rev1).mailbox, "Entw\xC3\xBCrfe");
  parse_error("a SELECT Entw&APw", rev1);
  parse_error("a SELECT \"\xFF\"");
  parse_error("a SELECT x (QRESYNC)");
  parse_error("a SELECT " + std::string(kMailboxNameBytesMax + 1, 'm'));
}

TEST(ImapCommandTest, MailboxManagement) {
  ImapCommand cmd = parse_ok("A003 CREATE owatagusiam/");
  EXPECT_EQ(cmd.kind, CommandKind::kCreate);
  EXPECT_EQ(cmd.mailbox, "owatagusiam/");
  cmd = parse_ok("t1 CREATE \"Important Messages\" (USE (\\Important))");
  EXPECT_EQ(cmd.special_use, (std::vector<std::string>{"\\Important"}));
  cmd = parse_ok("A683 DELETE blurdybloop");
  EXPECT_EQ(cmd.kind, CommandKind::kDelete);
  cmd = parse_ok("A682 RENAME blurdybloop sarasoop");
  EXPECT_EQ(cmd.mailbox, "blurdybloop");
  EXPECT_EQ(cmd.new_mailbox, "sarasoop");
  EXPECT_EQ(parse_ok("A002 SUBSCRIBE #news.comp.mail.mime").mailbox, "#news.comp.mail.mime");
  EXPECT_EQ(parse_ok("A002 UNSUBSCRIBE x").kind, CommandKind::kUnsubscribe);
}

TEST(ImapCommandTest, BasicList) {
  ImapCommand cmd = parse_ok("A101 LIST \"\" \"\"");
  EXPECT_EQ(cmd.list.reference, "");
  EXPECT_EQ(cmd.list.patterns, (std::vector<std::string>{""}));
  EXPECT_FALSE(cmd.list.extended);
  cmd = parse_ok("A102 LIST #news.comp.mail.misc *");
  EXPECT_EQ(cmd.list.reference, "#news.comp.mail.misc");
  EXPECT_EQ(cmd.list.patterns, (std::vector<std::string>{"*"}));
  cmd = parse_ok("A202 LIST ~/Mail/ %");
  EXPECT_EQ(cmd.list.patterns, (std::vector<std::string>{"%"}));
  cmd = parse_ok("A002 LSUB \"#news.\" \"comp.mail.*\"");
  EXPECT_EQ(cmd.kind, CommandKind::kLsub);
  EXPECT_EQ(cmd.list.patterns, (std::vector<std::string>{"comp.mail.*"}));
}

TEST(ImapCommandTest, ExtendedList) {
  ImapCommand cmd = parse_ok("A02 LIST (SUBSCRIBED) \"\" \"*\"");
  EXPECT_TRUE(cmd.list.extended);
  EXPECT_EQ(cmd.list.selection, kListSubscribed);
  cmd = parse_ok("A03 LIST () \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_EQ(cmd.list.returns, kListReturnChildren);
  cmd = parse_ok("A04 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_EQ(cmd.list.selection, kListRemote);
  cmd = parse_ok("C04 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)");
  EXPECT_EQ(cmd.list.selection, kListSubscribed | kListRecursiveMatch);
  cmd = parse_ok("BBB LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")");
  EXPECT_EQ(cmd.list.patterns, (std::vector<std::string>{"INBOX", "Drafts", "Sent/%"}));
  cmd = parse_ok("A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))");
  EXPECT_EQ(cmd.list.returns, kListReturnStatus);
  EXPECT_EQ(cmd.list.status_items, kStatusMessages | kStatusUnseen);
  cmd = parse_ok("t1 LIST (SPECIAL-USE) \"\" \"*\" RETURN (SPECIAL-USE SUBSCRIBED)");
  EXPECT_EQ(cmd.list.selection, kListSpecialUse);
  EXPECT_EQ(cmd.list.returns, kListReturnSpecialUse | kListReturnSubscribed);
  parse_error("A05 LIST (RECURSIVEMATCH) \"\" \"%\"");
  parse_error("A06 LIST (BOGUS) \"\" \"%\"");
  parse_error("A07 LIST \"\" % RETURN (BOGUS)");
}

TEST(ImapCommandTest, Status) {
  ImapCommand cmd = parse_ok("A042 STATUS blurdybloop (UIDNEXT MESSAGES)");
  EXPECT_EQ(cmd.mailbox, "blurdybloop");
  EXPECT_EQ(cmd.status_items, kStatusUidNext | kStatusMessages);
  cmd = parse_ok("a STATUS INBOX (UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ)");
  EXPECT_EQ(cmd.status_items, kStatusUidValidity | kStatusUnseen | kStatusDeleted | kStatusSize |
                                  kStatusRecent | kStatusHighestModSeq);
  parse_error("a STATUS INBOX ()");
  parse_error("a STATUS INBOX (FOO)");
}

TEST(ImapCommandTest, Append) {
  const std::string text =
      "A003 APPEND saved-messages (\\Seen) \"17-Jul-1996 02:44:25 -0700\" {23}\r\n"
      "Subject: hi\r\n\r\nHello!\r\n";
  ImapCommand cmd = parse_ok(text);
  EXPECT_EQ(cmd.kind, CommandKind::kAppend);
  EXPECT_EQ(cmd.mailbox, "saved-messages");
  ASSERT_EQ(cmd.append.size(), 1u);
  EXPECT_EQ(cmd.append[0].flags.system, kFlagSeen);
  ASSERT_TRUE(cmd.append[0].date);
  EXPECT_EQ(cmd.append[0].date->unix_s, 837596665);
  EXPECT_EQ(cmd.append[0].data, "Subject: hi\r\n\r\nHello!\r\n");
  EXPECT_FALSE(cmd.append[0].binary);
  // The data points into the text: no copy.
  EXPECT_GE(cmd.append[0].data.data(), text.data());
  EXPECT_LT(cmd.append[0].data.data(), text.data() + text.size());

  cmd = parse_ok("a APPEND INBOX {3+}\r\nabc");
  EXPECT_EQ(cmd.append[0].flags.system, 0u);
  EXPECT_FALSE(cmd.append[0].date);
  const std::string binary("a APPEND INBOX () ~{3}\r\na\0c", 27);  // outlives cmd's views
  cmd = parse_ok(binary);
  EXPECT_TRUE(cmd.append[0].binary);
  EXPECT_EQ(cmd.append[0].data, std::string_view("a\0c", 3));
  // MULTIAPPEND.
  cmd = parse_ok("a APPEND INBOX (\\Draft $Work) {1}\r\nx {1}\r\ny");
  ASSERT_EQ(cmd.append.size(), 2u);
  EXPECT_EQ(cmd.append[0].flags.keywords, (std::vector<std::string>{"$Work"}));
  EXPECT_EQ(cmd.append[1].data, "y");
  parse_error("a APPEND INBOX (\\Recent) {1}\r\nx");
  parse_error("a APPEND INBOX \"bad date\" {1}\r\nx");
  parse_error("a APPEND INBOX");
  parse_error(std::string("a APPEND INBOX {3}\r\na\0c", 23));  // NUL needs literal8
}

TEST(ImapCommandTest, UidExpungeCopyMove) {
  ImapCommand cmd = parse_ok("A003 UID EXPUNGE 3000:3002");
  EXPECT_EQ(cmd.kind, CommandKind::kExpunge);
  EXPECT_TRUE(cmd.uid);
  EXPECT_EQ(cmd.sequence, SequenceSet::range(3000, 3002));
  cmd = parse_ok("A003 COPY 2:4 MEETING");
  EXPECT_EQ(cmd.kind, CommandKind::kCopy);
  EXPECT_EQ(cmd.mailbox, "MEETING");
  cmd = parse_ok("a UID MOVE 42:69 foo");
  EXPECT_EQ(cmd.kind, CommandKind::kMove);
  EXPECT_TRUE(cmd.uid);
  cmd = parse_ok("a MOVE $ Trash");
  EXPECT_TRUE(cmd.sequence.is_saved_result());
  parse_error("a COPY 0 x");
  parse_error("a UID EXPUNGE");
}

TEST(ImapCommandTest, Store) {
  ImapCommand cmd = parse_ok("A003 STORE 2:4 +FLAGS (\\Deleted)");
  EXPECT_EQ(cmd.store.mode, StoreMode::kAdd);
  EXPECT_FALSE(cmd.store.silent);
  EXPECT_EQ(cmd.store.flags.system, kFlagDeleted);
  cmd = parse_ok("a UID STORE 1:* -FLAGS.SILENT \\Seen $Junk");
  EXPECT_TRUE(cmd.uid);
  EXPECT_EQ(cmd.store.mode, StoreMode::kRemove);
  EXPECT_TRUE(cmd.store.silent);
  EXPECT_EQ(cmd.store.flags.system, kFlagSeen);
  EXPECT_EQ(cmd.store.flags.keywords, (std::vector<std::string>{"$Junk"}));
  cmd = parse_ok("d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\\Deleted)");
  EXPECT_EQ(cmd.store.unchanged_since, 320162338u);
  cmd = parse_ok("a STORE 1 FLAGS ()");
  EXPECT_EQ(cmd.store.mode, StoreMode::kReplace);
  EXPECT_EQ(cmd.store.flags, FlagList{});
  parse_error("a STORE 1 +FLAGS (\\Recent)");
  parse_error("a STORE 1 LABELS (x)");
  parse_error("a STORE 1 FLAGS");
}

TEST(ImapCommandTest, FetchMacrosAndSimpleItems) {
  ImapCommand cmd = parse_ok("a FETCH 1:* ALL");
  EXPECT_EQ(cmd.fetch.items.size(), 4u);
  EXPECT_TRUE(cmd.fetch.has(FetchAttr::kEnvelope));
  EXPECT_FALSE(cmd.fetch.has(FetchAttr::kUid));
  cmd = parse_ok("a FETCH 1 FAST");
  EXPECT_EQ(cmd.fetch.items.size(), 3u);
  cmd = parse_ok("a FETCH 1 full");
  EXPECT_TRUE(cmd.fetch.has(FetchAttr::kBody));
  cmd = parse_ok("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])");
  ASSERT_EQ(cmd.fetch.items.size(), 2u);
  const FetchItem& item = cmd.fetch.items[1];
  EXPECT_EQ(item.attr, FetchAttr::kBodySection);
  EXPECT_FALSE(item.peek);
  EXPECT_EQ(item.section.text, SectionText::kHeaderFields);
  EXPECT_EQ(item.section.fields, (std::vector<std::string>{"DATE", "FROM"}));
  EXPECT_TRUE(cmd.fetch.sets_seen());
  cmd = parse_ok(
      "a UID FETCH 1:* (FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ "
      "RFC822 RFC822.HEADER RFC822.TEXT UID)");
  EXPECT_EQ(cmd.fetch.items.size(), 10u);
  EXPECT_TRUE(cmd.fetch.has(FetchAttr::kUid));
  cmd = parse_ok("a UID FETCH 1:* FLAGS");  // UID is implied
  EXPECT_TRUE(cmd.fetch.has(FetchAttr::kUid));
  EXPECT_EQ(cmd.fetch.items.size(), 2u);
}

TEST(ImapCommandTest, FetchSections) {
  ImapCommand cmd = parse_ok(
      "a FETCH 1 (BODY.PEEK[] BODY[1.2.MIME] BODY[3.HEADER.FIELDS.NOT (X-A)]<0.100> "
      "BODY[TEXT] BODY[2] BINARY.PEEK[1.1]<5.10> BINARY.SIZE[2] BINARY[])");
  const auto& items = cmd.fetch.items;
  ASSERT_EQ(items.size(), 8u);
  EXPECT_TRUE(items[0].peek);
  EXPECT_TRUE(items[0].section.part.empty());
  EXPECT_EQ(items[0].section.text, SectionText::kNone);
  EXPECT_EQ(items[1].section.part, (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(items[1].section.text, SectionText::kMime);
  EXPECT_EQ(items[2].section.text, SectionText::kHeaderFieldsNot);
  EXPECT_EQ(items[2].partial, (std::pair<uint32_t, uint32_t>{0, 100}));
  EXPECT_EQ(items[3].section.text, SectionText::kText);
  EXPECT_EQ(items[4].section.part, (std::vector<uint32_t>{2}));
  EXPECT_EQ(items[5].attr, FetchAttr::kBinary);
  EXPECT_TRUE(items[5].peek);
  EXPECT_EQ(items[5].partial, (std::pair<uint32_t, uint32_t>{5, 10}));
  EXPECT_EQ(items[6].attr, FetchAttr::kBinarySize);
  EXPECT_EQ(items[7].attr, FetchAttr::kBinary);
  EXPECT_FALSE(parse_ok("a FETCH 1 BODY.PEEK[HEADER]").fetch.sets_seen());
  for (std::string_view bad :
       {"a FETCH 1 BODY[MIME]", "a FETCH 1 BODY[0]", "a FETCH 1 BODY[1.]", "a FETCH 1 BODY[FOO]",
        "a FETCH 1 BODY[HEADER.FIELDS]", "a FETCH 1 BODY[]<1>", "a FETCH 1 BODY[]<1.0>",
        "a FETCH 1 BODY.PEEK", "a FETCH 1 BINARY[TEXT]", "a FETCH 1 (FLAGS", "a FETCH 1 ()",
        "a FETCH 1 BOGUS", "a FETCH 1:* (FLAGS) extra", "a FETCH FLAGS"}) {
    parse_error(bad);
  }
}

TEST(ImapCommandTest, FetchModifiers) {
  ImapCommand cmd = parse_ok("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)");
  EXPECT_EQ(cmd.fetch.changed_since, 12345u);
  EXPECT_TRUE(cmd.fetch.has(FetchAttr::kModSeq));
  cmd = parse_ok("a UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)");
  EXPECT_TRUE(cmd.fetch.vanished);
  parse_error("a FETCH 1 FLAGS (VANISHED)");
  parse_error("a FETCH 1 FLAGS (FOO 1)");
}

TEST(ImapCommandTest, Search) {
  ImapCommand cmd = parse_ok("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
  const SearchKey& k = cmd.search.key;
  EXPECT_EQ(k.kind, SearchKeyKind::kAnd);
  ASSERT_EQ(k.children.size(), 3u);
  EXPECT_EQ(k.children[0].kind, SearchKeyKind::kFlagSet);
  EXPECT_EQ(k.children[0].flag, kFlagFlagged);
  EXPECT_EQ(k.children[1].kind, SearchKeyKind::kSince);
  EXPECT_EQ(k.children[1].day, days_from_civil(1994, 2, 1));
  EXPECT_EQ(k.children[2].kind, SearchKeyKind::kNot);
  EXPECT_EQ(k.children[2].children[0].field, "From");
  EXPECT_EQ(k.children[2].children[0].text, "smith");
  EXPECT_TRUE(k.expensive);
  EXPECT_FALSE(k.children[0].expensive);
  EXPECT_FALSE(cmd.search.esearch);

  cmd = parse_ok("A283 SEARCH TEXT \"string not in mailbox\"");
  EXPECT_EQ(cmd.search.key.children[0].kind, SearchKeyKind::kText);
  cmd = parse_ok("A284 SEARCH CHARSET UTF-8 TEXT {11}\r\n\xD0\xA2\xD0\x95\xD0\xA1\xD0\xA2 ab");
  EXPECT_EQ(cmd.search.charset, "UTF-8");
  EXPECT_EQ(cmd.search.key.children[0].text, "\xD1\x82\xD0\xB5\xD1\x81\xD1\x82 ab");
  ParseError e = parse_error("A285 SEARCH CHARSET KOI8-R TEXT x");
  EXPECT_EQ(e.kind, ParseErrorKind::kBadCharset);
  EXPECT_EQ(e.code, "BADCHARSET");
  EXPECT_EQ(e.tag, "A285");
}

TEST(ImapCommandTest, SearchEveryKey) {
  ImapCommand cmd = parse_ok(
      "a UID SEARCH ALL ANSWERED BCC x BEFORE 1-Jan-2000 BODY y CC z DELETED DRAFT FLAGGED "
      "FROM f HEADER X-Spam yes KEYWORD $Junk LARGER 100 NOT SEEN ON \"2-Jan-2000\" "
      "OR SEEN UNSEEN SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000 SENTSINCE 1-Jan-2000 "
      "SINCE 1-Jan-2000 SMALLER 5000 SUBJECT s TEXT t TO u UID 1:*,5 UNANSWERED UNDELETED "
      "UNDRAFT UNFLAGGED UNKEYWORD $Work UNSEEN NEW OLD RECENT 1,3:4 * $ "
      "MODSEQ 620162338 MODSEQ \"/flags/\\\\draft\" all 620162338 (SEEN (FLAGGED DELETED))");
  EXPECT_TRUE(cmd.uid);
  EXPECT_EQ(cmd.search.key.children.size(), 40u);
  const SearchKey& last = cmd.search.key.children.back();
  EXPECT_EQ(last.kind, SearchKeyKind::kAnd);
  EXPECT_EQ(last.children[1].children.size(), 2u);
  for (std::string_view bad :
       {"a SEARCH", "a SEARCH FOO", "a SEARCH BEFORE 1-Foo-2000", "a SEARCH LARGER x",
        "a SEARCH OR SEEN", "a SEARCH (SEEN", "a SEARCH SEEN)", "a SEARCH KEYWORD \\Seen",
        "a SEARCH NOT", "a SEARCH 0", "a SEARCH UID x", "a SEARCH  SEEN"}) {
    parse_error(bad);
  }
}

TEST(ImapCommandTest, SearchReturnOptions) {
  ImapCommand cmd = parse_ok("A282 SEARCH RETURN (MIN COUNT) FLAGGED");
  EXPECT_TRUE(cmd.search.esearch);
  EXPECT_EQ(cmd.search.returns, kSearchReturnMin | kSearchReturnCount);
  cmd = parse_ok("A283 SEARCH RETURN () FLAGGED");
  EXPECT_EQ(cmd.search.returns, kSearchReturnAll);
  cmd = parse_ok("A301 UID SEARCH RETURN (SAVE MAX ALL) CHARSET us-ascii UNSEEN");
  EXPECT_EQ(cmd.search.returns, kSearchReturnSave | kSearchReturnMax | kSearchReturnAll);
  EXPECT_EQ(cmd.search.charset, "US-ASCII");
  parse_error("a SEARCH RETURN (FOO) ALL");
}

TEST(ImapCommandTest, SearchLimits) {
  std::string deep = "a SEARCH ";
  for (size_t i = 0; i < kSearchDepthMax + 2; ++i) {
    deep += "NOT ";
  }
  deep += "SEEN";
  ParseError e = parse_error(deep);
  EXPECT_EQ(e.kind, ParseErrorKind::kTooMany);
  EXPECT_EQ(e.code, "LIMIT");
  std::string wide = "a SEARCH";
  for (size_t i = 0; i <= kSearchKeysMax; ++i) {
    wide += " SEEN";
  }
  EXPECT_EQ(parse_error(wide).kind, ParseErrorKind::kTooMany);
  std::string parens = "a SEARCH " + std::string(10000, '(');
  EXPECT_EQ(parse_error(parens).kind, ParseErrorKind::kTooMany);
}

TEST(ImapCommandTest, CommandTable) {
  EXPECT_EQ(command_info(CommandKind::kFetch).name, "FETCH");
  EXPECT_NE(command_info(CommandKind::kFetch).flags & kUidForm, 0u);
  EXPECT_EQ(command_info(CommandKind::kLogin).flags & kInAuthenticated, 0u);
  EXPECT_NE(command_info(CommandKind::kCapability).flags & kInNotAuthenticated, 0u);
  for (const CommandInfo& info : commands()) {
    EXPECT_EQ(command_info(info.kind).name, info.name);
  }
}

TEST(ImapCommandTest, FramedCommandFromReader) {
  ImapCommandReader reader;
  reader.feed("A1 APPEND Drafts {5+}\r\nHello\r\n");
  ASSERT_EQ(reader.next(), ReaderEvent::kCommand);
  ParseResult r = parse_imap_command(reader.command());
  ASSERT_TRUE(r.command) << r.error.text;
  EXPECT_EQ(r.command->append[0].data, "Hello");
}

}  // namespace
}  // namespace rm::imap
