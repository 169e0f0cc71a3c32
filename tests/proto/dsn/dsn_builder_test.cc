// The DSN builder: reports are parsed back with Python's email package (python3 must be on
// PATH) and checked field by field, plus structural checks in C++ (CRLF only, lines of at
// most 998 octets, the boundary absent from the content), should_notify's table, and the
// date format.
#include "proto/dsn/dsn_builder.h"
#include "tests/common/subprocess.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace rm::dsn {
namespace {

constexpr int64_t kArrival = 1700000000;  // Tue, 14 Nov 2023 22:13:20 +0000
constexpr int64_t kNow = 1700003600;

const char kOriginal[] =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: lunch?\r\n"
    "Message-ID: <m1@example.org>\r\n"
    "\r\n"
    "Shall we meet at noon?\r\n"
    "From the office.\r\n";

// Prints what Python's email package finds in the report given as argv[1].
const char kParseScript[] = R"PY(
import email, sys
from email.utils import parsedate_to_datetime
m = email.message_from_bytes(open(sys.argv[1], 'rb').read())
print('type:', m.get_content_type(), m.get_param('report-type'))
for h in ('From', 'To', 'Subject', 'Message-ID', 'MIME-Version', 'Auto-Submitted'):
    print(h + ':', m[h])
print('Date:', int(parsedate_to_datetime(m['Date']).timestamp()))
defects = [d for part in m.walk() for d in part.defects]
print('defects:', len(defects), defects)
parts = m.get_payload()
print('parts:', ' '.join(p.get_content_type() for p in parts))
print('text:', ' '.join(parts[0].get_payload().split()))
blocks = parts[1].get_payload()
print('message fields:', '; '.join(k + '=' + v for k, v in blocks[0].items()))
for block in blocks[1:]:
    print('recipient fields:', '; '.join(k + '=' + ' '.join(v.split()) for k, v in block.items()))
third = parts[2]
if third.get_content_type() == 'message/rfc822':
    inner = third.get_payload(0)
    print('returned subject:', inner['Subject'])
    print('returned body:', repr(inner.get_payload()))
else:
    print('returned headers:', repr(third.get_payload()))
)PY";

// Writes `contents` to a fresh file under /tmp and removes it when destroyed.
class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char pattern[] = "/tmp/rm_dsn_test.XXXXXX";
    const int fd = ::mkstemp(pattern);
    EXPECT_GE(fd, 0);
    path_ = pattern;
    if (fd >= 0) {
      ::close(fd);
    }
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { ::unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs kParseScript on `message`; returns what it printed (a test failure if it failed).
std::string parse_with_python(const std::string& message) {
  const TempFile script(kParseScript);
  const TempFile input(message);
  const std::string command = "python3 '" + script.path() + "' '" + input.path() + "'";
  return test::run_command(command);
}

void expect_has(const std::string& haystack, const std::string& needle) {
  EXPECT_NE(haystack.find(needle), std::string::npos) << "missing: " << needle << "\n--- in ---\n"
                                                      << haystack;
}

// CRLF only, every line at most 998 octets and not only spaces, the boundary only on its
// delimiter lines.
void expect_well_formed(const Dsn& dsn) {
  const std::string& m = dsn.message;
  size_t delimiters = 0;
  size_t start = 0;
  while (start < m.size()) {
    const size_t crlf = m.find("\r\n", start);
    ASSERT_NE(crlf, std::string::npos) << "the last line lacks CRLF";
    const std::string line = m.substr(start, crlf - start);
    EXPECT_LE(line.size(), 998u);
    EXPECT_EQ(line.find_first_of("\r\n"), std::string::npos) << "bare CR or LF";
    EXPECT_FALSE(!line.empty() && line.find_first_not_of(' ') == std::string::npos)
        << "a line of only spaces (a bad fold)";
    const size_t at = line.find(dsn.boundary);
    if (at != std::string::npos) {
      const bool delimiter = line == "--" + dsn.boundary || line == "--" + dsn.boundary + "--";
      const bool header = line.find("boundary=\"" + dsn.boundary + "\"") != std::string::npos;
      EXPECT_TRUE(delimiter || header) << "boundary inside content: " << line;
      delimiters += delimiter ? 1 : 0;
    }
    start = crlf + 2;
  }
  EXPECT_EQ(delimiters, 4u);  // three parts and the close
}

RecipientReport failed_recipient() {
  RecipientReport r;
  r.address = "bob@example.net";
  r.orcpt = "rfc822;Bob@Example.NET";
  r.action = Action::kFailed;
  r.status = "5.1.1";
  r.remote_mta = "mx.example.net";
  r.diagnostic = "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown";
  r.last_attempt_unix_s = kNow;
  return r;
}

DsnRequest base_request() {
  DsnRequest q;
  q.reporting_mta = "mail.example.org";
  q.queue_id = "0005F3C2A1B2C300";
  q.message_id = "<dsn.0005F3C2A1B2C300@mail.example.org>";
  q.original_sender = "alice@example.org";
  q.arrival_unix_s = kArrival;
  q.date_unix_s = kNow;
  q.original = kOriginal;
  q.recipients.push_back(failed_recipient());
  return q;
}

TEST(DsnBuilderTest, FailureReturnsTheWholeMessage) {
  DsnRequest q = base_request();
  q.envid = "QQ314159";
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  EXPECT_FALSE(dsn.eight_bit);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "type: multipart/report delivery-status\n");
  expect_has(py, "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\n");
  expect_has(py, "To: alice@example.org\n");
  expect_has(py, "Subject: Undelivered Mail Returned to Sender\n");
  expect_has(py, "Message-ID: <dsn.0005F3C2A1B2C300@mail.example.org>\n");
  expect_has(py, "MIME-Version: 1.0\n");
  expect_has(py, "Auto-Submitted: auto-replied\n");
  expect_has(py, "Date: 1700003600\n");
  expect_has(py, "defects: 0 []\n");
  expect_has(py, "parts: text/plain message/delivery-status message/rfc822\n");
  expect_has(py,
             "text: This is the mail system at host mail.example.org. Your message could not be "
             "delivered to one or more recipients. It is attached below. <bob@example.net>: host "
             "mx.example.net said: 550 5.1.1 <bob@example.net>: Recipient address rejected: User "
             "unknown\n");
  expect_has(py,
             "message fields: Original-Envelope-Id=QQ314159; Reporting-MTA=dns; mail.example.org; "
             "Arrival-Date=Tue, 14 Nov 2023 22:13:20 +0000\n");
  expect_has(py,
             "recipient fields: Original-Recipient=rfc822;Bob@Example.NET; "
             "Final-Recipient=rfc822; bob@example.net; Action=failed; Status=5.1.1; "
             "Remote-MTA=dns; mx.example.net; Diagnostic-Code=smtp; 550 5.1.1 "
             "<bob@example.net>: Recipient address rejected: User unknown; "
             "Last-Attempt-Date=Tue, 14 Nov 2023 23:13:20 +0000\n");
  expect_has(py, "returned subject: lunch?\n");
  expect_has(py, "returned body: 'Shall we meet at noon?\\r\\nFrom the office.\\r\\n'\n");
}

TEST(DsnBuilderTest, RetHdrsReturnsOnlyTheHeaders) {
  DsnRequest q = base_request();
  q.ret = smtp::Ret::kHdrs;
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "parts: text/plain message/delivery-status text/rfc822-headers\n");
  expect_has(py, "Its headers are attached below.");
  expect_has(py,
             "returned headers: 'From: Alice <alice@example.org>\\r\\nTo: bob@example.net\\r\\n"
             "Subject: lunch?\\r\\nMessage-ID: <m1@example.org>\\r\\n'\n");
  EXPECT_EQ(dsn.message.find("Shall we meet"), std::string::npos);
}

TEST(DsnBuilderTest, OversizedMessageReturnsOnlyTheHeaders) {
  DsnRequest q = base_request();
  q.ret = smtp::Ret::kFull;
  q.returned_bytes_max = sizeof(kOriginal) - 2;
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "parts: text/plain message/delivery-status text/rfc822-headers\n");
  EXPECT_EQ(dsn.message.find("Shall we meet"), std::string::npos);
  q.returned_bytes_max = sizeof(kOriginal) - 1;  // exactly the message's size
  EXPECT_NE(build_dsn(q).message.find("Shall we meet"), std::string::npos);
}

TEST(DsnBuilderTest, HeadersAreCutAtTheLimit) {
  std::string original;
  for (int i = 0; i < 100; ++i) {
    original += "X-Filler-" + std::to_string(i) + ": " + std::string(60, 'x') + "\r\n";
  }
  original += "\r\nbody\r\n";
  DsnRequest q = base_request();
  q.original = original;
  q.returned_bytes_max = 1000;
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  EXPECT_NE(dsn.message.find("X-Filler-0:"), std::string::npos);
  EXPECT_EQ(dsn.message.find("X-Filler-99:"), std::string::npos);
}

TEST(DsnBuilderTest, DelayNoticeHasRetryDateAndHeadersOnly) {
  DsnRequest q = base_request();
  q.ret = smtp::Ret::kFull;
  RecipientReport& r = q.recipients[0];
  r.action = Action::kDelayed;
  r.status = "4.4.1";
  r.diagnostic = "connect to mx.example.net[192.0.2.1]:25: Connection timed out";
  r.diagnostic_type = "x-unix";
  r.will_retry_until_unix_s = kArrival + 5 * 86400;
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "Subject: Delayed Mail (still being retried)\n");
  expect_has(py, "parts: text/plain message/delivery-status text/rfc822-headers\n");
  expect_has(py, "Delivery will be retried until Sun, 19 Nov 2023 22:13:20 +0000.");
  expect_has(py, "Action=delayed; Status=4.4.1;");
  expect_has(py, "Diagnostic-Code=x-unix; connect to mx.example.net[192.0.2.1]:25:");
  expect_has(py, "Will-Retry-Until=Sun, 19 Nov 2023 22:13:20 +0000\n");
}

TEST(DsnBuilderTest, MixedReportListsEveryRecipient) {
  DsnRequest q = base_request();
  RecipientReport delivered;
  delivered.address = "carol@example.com";
  delivered.action = Action::kDelivered;
  delivered.status = "2.0.0";
  delivered.remote_mta = "mx.example.com";
  delivered.diagnostic = "250 2.0.0 Ok: queued as ABC";
  q.recipients.push_back(delivered);
  RecipientReport relayed = delivered;
  relayed.address = "dave@example.com";
  relayed.action = Action::kRelayed;
  q.recipients.push_back(relayed);
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "Subject: Undelivered Mail Returned to Sender\n");
  expect_has(py, "<carol@example.com>: delivered <dave@example.com>: relayed\n");
  expect_has(py, "Final-Recipient=rfc822; carol@example.com; Action=delivered; Status=2.0.0;");
  expect_has(py, "Final-Recipient=rfc822; dave@example.com; Action=relayed; Status=2.0.0;");
}

TEST(DsnBuilderTest, BoundaryAvoidsTheContent) {
  std::string original = "Subject: trap\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    char line[64];
    std::snprintf(line, sizeof(line), "--=_dsn_0005F3C2A1B2C300-%08X\r\n", i);
    original += line;
  }
  DsnRequest q = base_request();
  q.original = original;
  const Dsn dsn = build_dsn(q);
  EXPECT_EQ(dsn.boundary, "=_dsn_0005F3C2A1B2C300-00000003");
  expect_well_formed(dsn);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "defects: 0 []\n");
  expect_has(py, "returned subject: trap\n");
}

TEST(DsnBuilderTest, HostileInputStaysInsideItsFields) {
  std::string original = "Subject: " + std::string(3000, 'h') + "\nX-Bare: lf\r";
  original += "\r\n" + std::string(5000, 'b') + "\r\n\xC3\xA9t\xC3\xA9\n.\n";
  DsnRequest q = base_request();
  q.original = original;
  q.envid = "id\r\nBcc: victim@example.com";
  q.recipients[0].address = std::string(900, 'a') + "@example.net";  // fits, cannot fold
  q.recipients[0].orcpt = "rfc822;x\r\nEvil: 1";
  q.recipients[0].diagnostic = "550-5.7.1 first line\r\n550 5.7.1 second \x01 line \xFF";
  q.recipients[0].remote_mta = std::string(2000, 'm');
  const Dsn dsn = build_dsn(q);
  expect_well_formed(dsn);
  EXPECT_TRUE(dsn.eight_bit);
  EXPECT_EQ(dsn.message.find("\r\nBcc:"), std::string::npos);
  EXPECT_EQ(dsn.message.find("\r\nEvil:"), std::string::npos);
  const std::string py = parse_with_python(dsn.message);
  expect_has(py, "Original-Envelope-Id=id+0D+0ABcc:+20victim@example.com;");
  expect_has(py, "Original-Recipient=rfc822;x+0D+0AEvil:+201;");
  expect_has(py, "Diagnostic-Code=smtp; 550-5.7.1 first line 550 5.7.1 second ? line ?;");
  expect_has(py, "parts: text/plain message/delivery-status message/rfc822\n");
}

TEST(DsnBuilderTest, MalformedStatusBecomesGeneric) {
  DsnRequest q = base_request();
  q.recipients[0].status = "5.1";
  EXPECT_NE(build_dsn(q).message.find("\r\nStatus: 5.0.0\r\n"), std::string::npos);
  q.recipients[0].status = "5.1.1\r\nX: y";
  EXPECT_NE(build_dsn(q).message.find("\r\nStatus: 5.0.0\r\n"), std::string::npos);
  q.recipients[0].status = "5.7.26";
  EXPECT_NE(build_dsn(q).message.find("\r\nStatus: 5.7.26\r\n"), std::string::npos);
}

TEST(DsnBuilderTest, NonAsciiSenderAsksForSmtputf8) {
  DsnRequest q = base_request();
  EXPECT_FALSE(build_dsn(q).utf8_headers);
  q.original_sender = "\xC3\xA9lise@exampl\xC3\xA9.fr";
  const Dsn dsn = build_dsn(q);
  EXPECT_TRUE(dsn.utf8_headers);
  EXPECT_NE(dsn.message.find("\r\nTo: \xC3\xA9lise@exampl\xC3\xA9.fr\r\n"), std::string::npos);
}

TEST(DsnBuilderTest, ShouldNotify) {
  using smtp::kNotifyDelay;
  using smtp::kNotifyFailure;
  using smtp::kNotifyNever;
  using smtp::kNotifySuccess;
  using smtp::kNotifyUnset;
  const std::string_view sender = "alice@example.org";
  // Unset: failure and delay only.
  EXPECT_TRUE(should_notify(kNotifyUnset, Action::kFailed, sender));
  EXPECT_TRUE(should_notify(kNotifyUnset, Action::kDelayed, sender));
  EXPECT_FALSE(should_notify(kNotifyUnset, Action::kDelivered, sender));
  // NEVER.
  for (Action a : {Action::kFailed, Action::kDelayed, Action::kDelivered, Action::kRelayed}) {
    EXPECT_FALSE(should_notify(kNotifyNever, a, sender));
  }
  // Explicit sets.
  EXPECT_TRUE(should_notify(kNotifySuccess, Action::kDelivered, sender));
  EXPECT_TRUE(should_notify(kNotifySuccess, Action::kRelayed, sender));
  EXPECT_TRUE(should_notify(kNotifySuccess, Action::kExpanded, sender));
  EXPECT_FALSE(should_notify(kNotifySuccess, Action::kFailed, sender));
  EXPECT_TRUE(should_notify(kNotifyFailure, Action::kFailed, sender));
  EXPECT_FALSE(should_notify(kNotifyFailure, Action::kDelayed, sender));
  EXPECT_TRUE(should_notify(kNotifyDelay, Action::kDelayed, sender));
  EXPECT_TRUE(should_notify(kNotifySuccess | kNotifyFailure, Action::kFailed, sender));
  // Never a report to the null sender.
  EXPECT_FALSE(should_notify(kNotifyUnset, Action::kFailed, ""));
  EXPECT_FALSE(should_notify(kNotifyFailure | kNotifySuccess, Action::kFailed, ""));
}

TEST(DsnBuilderTest, Rfc5322Date) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(kArrival), "Tue, 14 Nov 2023 22:13:20 +0000");
  EXPECT_EQ(rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
}

}  // namespace
}  // namespace rm::dsn
