// DSN assembly: field folding, text wrapping, the returned original (line endings and
// lengths made safe), and a boundary that provably does not occur in the content.
// Thread-safety: pure functions.
#include "proto/dsn/dsn_builder.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <initializer_list>
#include <unordered_set>

#include "core/base/assert.h"

namespace rm::dsn {

namespace {

constexpr size_t kLineOctetsMax = 998;  // RFC 5322 2.1.1, without the CRLF
constexpr size_t kFoldColumn = 78;      // RFC 5322 2.1.1 SHOULD
constexpr size_t kTextColumn = 76;
constexpr size_t kQueueIdCharsMax = 40;
constexpr size_t kBoundaryCounterDigits = 8;

// ---- text helpers ----

bool printable_ascii(unsigned char c) {
  return c >= 0x20 && c < 0x7f;
}

// For the human-readable part: whitespace controls become spaces, other bytes outside
// printable US-ASCII become '?'.
std::string plain_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n' || c == '\t') {
      out += ' ';
    } else {
      out += printable_ascii(byte) ? c : '?';
    }
  }
  return out;
}

// For report fields: bytes outside printable US-ASCII, and spaces, become xtext "+XX"
// (RFC 3461 4).
std::string xtext_escaped(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += '+';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

// A header field "name: value", folded at spaces near kFoldColumn; a run without spaces
// longer than a line allows is broken with CRLF SP. Appends the final CRLF.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  std::string line(name);
  line += ": ";
  line += value;
  std::string_view rest = line;
  while (rest.size() > kFoldColumn) {
    size_t cut = rest.substr(0, kFoldColumn + 1).find_last_of(' ');
    if (cut == std::string_view::npos || cut == 0) {
      cut = rest.substr(0, kLineOctetsMax).find(' ', 1);  // after a CRLF SP: still <= 998
    }
    if ((cut == std::string_view::npos || cut == 0) && rest.size() < kLineOctetsMax) {
      break;  // no place to fold, but it fits on one line (a leading SP included)
    }
    if (cut == std::string_view::npos || cut == 0) {
      cut = kLineOctetsMax - 1;
      out.append(rest.substr(0, cut));
      out += "\r\n ";
    } else {
      out.append(rest.substr(0, cut));
      out += "\r\n";
    }
    rest.remove_prefix(cut);
  }
  out.append(rest);
  out += "\r\n";
}

// Plain text wrapped at kTextColumn; continuation lines start with `indent`.
void append_wrapped(std::string& out, std::string_view text, std::string_view indent) {
  size_t column = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t space = text.find(' ', pos);
    std::string_view word = text.substr(pos, space == std::string_view::npos ? space : space - pos);
    pos = space == std::string_view::npos ? text.size() : space + 1;
    while (word.size() > kTextColumn) {  // a word longer than a line gets lines of its own
      if (column > 0) {
        out += "\r\n";
        out.append(indent);
      }
      out.append(word.substr(0, kTextColumn));
      word.remove_prefix(kTextColumn);
      column = kTextColumn;
    }
    if (word.empty()) {
      continue;
    }
    if (column > 0 && column + 1 + word.size() > kTextColumn) {
      out += "\r\n";
      out.append(indent);
      column = indent.size();
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out.append(word);
    column += word.size();
  }
  out += "\r\n";
}

// "d.ddd.ddd" with a class matching the action; otherwise the generic x.0.0.
std::string checked_status(std::string_view status, Action action) {
  const char klass = action == Action::kFailed ? '5' : (action == Action::kDelayed ? '4' : '2');
  size_t digits[3] = {0, 0, 0};
  size_t part = 0;
  bool ok = !status.empty() && status.size() <= 9;
  for (size_t i = 0; ok && i < status.size(); ++i) {
    if (status[i] == '.') {
      ok = ++part < 3;
    } else if (status[i] >= '0' && status[i] <= '9') {
      ++digits[part];
    } else {
      ok = false;
    }
  }
  ok = ok && part == 2 && digits[0] == 1 && digits[1] >= 1 && digits[1] <= 3 && digits[2] >= 1 &&
       digits[2] <= 3 && (status[0] == '2' || status[0] == '4' || status[0] == '5');
  return ok ? std::string(status) : std::string(1, klass) + ".0.0";
}

// ---- the returned original ----

struct Returned {
  std::string text;
  bool eight_bit = false;
};

// Appends one line of the original, broken into pieces of at most kLineOctetsMax octets
// (in the header section with CRLF SP, so the pieces stay one folded field).
void append_original_line(Returned& r, std::string_view line, bool in_header) {
  const size_t piece_max = in_header ? kLineOctetsMax - 1 : kLineOctetsMax;
  bool first = true;
  do {
    const size_t take = std::min(line.size(), first ? kLineOctetsMax : piece_max);
    if (!first) {
      r.text += in_header ? "\r\n " : "\r\n";
    }
    r.text.append(line.substr(0, take));
    line.remove_prefix(take);
    first = false;
  } while (!line.empty());
  r.text += "\r\n";
}

// The original with CRLF line endings (bare CR and bare LF end lines too) and no line
// longer than kLineOctetsMax; only the header section when `headers_only`, then cut before
// the line that would pass `bytes_max`.
Returned returned_original(std::string_view original, bool headers_only, size_t bytes_max) {
  Returned r;
  bool in_header = true;
  size_t pos = 0;
  while (pos < original.size()) {
    const size_t eol = original.find_first_of("\r\n", pos);
    const size_t end = eol == std::string_view::npos ? original.size() : eol;
    const std::string_view line = original.substr(pos, end - pos);
    pos = end;
    if (pos < original.size()) {
      pos +=
          (original[pos] == '\r' && pos + 1 < original.size() && original[pos + 1] == '\n') ? 2 : 1;
    }
    if (in_header && line.empty()) {
      if (headers_only) {
        break;
      }
      in_header = false;
    }
    if (headers_only && r.text.size() + line.size() + 2 > bytes_max) {
      break;
    }
    r.eight_bit = r.eight_bit ||
                  std::any_of(line.begin(), line.end(), [](char c) { return (c & 0x80) != 0; });
    append_original_line(r, line, in_header);
  }
  return r;
}

// ---- the boundary ----

// base + "-" + 8 hex digits of the smallest counter whose boundary occurs in no part. Every
// occurrence of the base in the content rules out at most one counter, so one pass over the
// content finds the answer.
std::string choose_boundary(std::string_view queue_id,
                            std::initializer_list<std::string_view> parts) {
  std::string base = "=_dsn_";
  for (char c : queue_id.substr(0, kQueueIdCharsMax)) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      base += c;
    }
  }
  base += '-';
  std::unordered_set<uint64_t> taken;
  for (std::string_view part : parts) {
    for (size_t at = part.find(base); at != std::string_view::npos; at = part.find(base, at + 1)) {
      const std::string_view digits = part.substr(at + base.size(), kBoundaryCounterDigits);
      uint64_t value = 0;
      bool hex = digits.size() == kBoundaryCounterDigits;
      for (char c : digits) {
        const bool digit = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
        hex = hex && digit;
        value = value * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'A' + 10);
      }
      if (hex) {
        taken.insert(value);
      }
    }
  }
  uint64_t counter = 0;
  while (taken.count(counter) != 0) {
    ++counter;
  }
  RM_ASSERT(counter <= 0xffffffffu);
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%08llX", static_cast<unsigned long long>(counter));
  return base + suffix;
}

// ---- the parts ----

struct Summary {
  bool failed = false;
  bool delayed = false;
  bool succeeded = false;
  int64_t retry_until_unix_s = 0;
};

Summary summarize(const std::vector<RecipientReport>& recipients) {
  Summary s;
  for (const RecipientReport& r : recipients) {
    s.failed = s.failed || r.action == Action::kFailed;
    s.delayed = s.delayed || r.action == Action::kDelayed;
    s.succeeded = s.succeeded || (r.action != Action::kFailed && r.action != Action::kDelayed);
    if (r.action == Action::kDelayed) {
      s.retry_until_unix_s = std::max(s.retry_until_unix_s, r.will_retry_until_unix_s);
    }
  }
  return s;
}

std::string recipient_line(const RecipientReport& r) {
  std::string line = "<" + plain_text(r.address) + ">: ";
  if (r.action != Action::kFailed && r.action != Action::kDelayed) {
    line += std::string(action_name(r.action));
  } else if (!r.diagnostic.empty() && !r.remote_mta.empty()) {
    line += "host " + plain_text(r.remote_mta) + " said: " + plain_text(r.diagnostic);
  } else if (!r.diagnostic.empty()) {
    line += plain_text(r.diagnostic);
  } else {
    line +=
        std::string(action_name(r.action)) + " (status " + checked_status(r.status, r.action) + ")";
  }
  return line;
}

std::string notification_text(const DsnRequest& request, const Summary& s, bool full_returned) {
  std::string out;
  append_wrapped(out, "This is the mail system at host " + plain_text(request.reporting_mta) + ".",
                 "");
  out += "\r\n";
  if (s.failed) {
    append_wrapped(
        out,
        std::string("Your message could not be delivered to one or more recipients. ") +
            (full_returned ? "It is attached below." : "Its headers are attached below."),
        "");
    out += "\r\n";
  }
  if (s.delayed) {
    std::string text =
        "Your message could not be delivered yet to one or more recipients. Delivery will be "
        "retried";
    text += s.retry_until_unix_s > 0 ? " until " + rfc5322_date(s.retry_until_unix_s) + "." : ".";
    text += " You do not need to resend the message.";
    append_wrapped(out, text, "");
    out += "\r\n";
  }
  if (s.succeeded) {
    append_wrapped(out, "Your message was delivered to the destinations listed below.", "");
    out += "\r\n";
  }
  for (const RecipientReport& r : request.recipients) {
    append_wrapped(out, recipient_line(r), "    ");
  }
  return out;
}

void append_recipient_fields(std::string& out, const RecipientReport& r) {
  if (!r.orcpt.empty()) {
    append_field(out, "Original-Recipient", xtext_escaped(r.orcpt));
  }
  append_field(out, "Final-Recipient", "rfc822; " + xtext_escaped(r.address));
  append_field(out, "Action", action_name(r.action));
  append_field(out, "Status", checked_status(r.status, r.action));
  if (!r.remote_mta.empty()) {
    append_field(out, "Remote-MTA", "dns; " + xtext_escaped(r.remote_mta));
  }
  if (!r.diagnostic.empty()) {
    const std::string type = r.diagnostic_type.empty() ? "smtp" : xtext_escaped(r.diagnostic_type);
    append_field(out, "Diagnostic-Code", type + "; " + plain_text(r.diagnostic));
  }
  if (r.last_attempt_unix_s > 0) {
    append_field(out, "Last-Attempt-Date", rfc5322_date(r.last_attempt_unix_s));
  }
  if (r.action == Action::kDelayed && r.will_retry_until_unix_s > 0) {
    append_field(out, "Will-Retry-Until", rfc5322_date(r.will_retry_until_unix_s));
  }
}

std::string delivery_status(const DsnRequest& request) {
  std::string out;
  if (!request.envid.empty()) {
    append_field(out, "Original-Envelope-Id", xtext_escaped(request.envid));
  }
  append_field(out, "Reporting-MTA", "dns; " + xtext_escaped(request.reporting_mta));
  if (request.arrival_unix_s > 0) {
    append_field(out, "Arrival-Date", rfc5322_date(request.arrival_unix_s));
  }
  for (const RecipientReport& r : request.recipients) {
    out += "\r\n";
    append_recipient_fields(out, r);
  }
  return out;
}

std::string_view subject(const Summary& s) {
  if (s.failed) {
    return "Undelivered Mail Returned to Sender";
  }
  return s.delayed ? "Delayed Mail (still being retried)" : "Successful Mail Delivery Report";
}

// The To address: control bytes dropped, UTF-8 kept (the report then needs SMTPUTF8).
std::string header_address(std::string_view address, bool& utf8) {
  std::string out;
  for (char c : address) {
    const auto byte = static_cast<unsigned char>(c);
    utf8 = utf8 || byte >= 0x80;
    if (byte >= 0x80 || printable_ascii(byte)) {
      out += c;
    }
  }
  return out;
}

void append_top_headers(std::string& out, const DsnRequest& request, const Summary& s,
                        const std::string& boundary, bool& utf8) {
  const std::string host = xtext_escaped(request.reporting_mta);
  append_field(out, "From", "Mail Delivery System <MAILER-DAEMON@" + host + ">");
  append_field(out, "To", header_address(request.original_sender, utf8));
  append_field(out, "Subject", subject(s));
  append_field(out, "Date", rfc5322_date(request.date_unix_s));
  append_field(out, "Message-ID", xtext_escaped(request.message_id));
  append_field(out, "MIME-Version", "1.0");
  append_field(out, "Content-Type",
               "multipart/report; report-type=delivery-status; boundary=\"" + boundary + "\"");
  append_field(out, "Auto-Submitted", "auto-replied");
}

// "--boundary" and a part's headers; `content` ends with CRLF and gets one more, which the
// next delimiter takes as its own.
void append_part(std::string& out, const std::string& boundary, std::string_view description,
                 std::string_view type, bool eight_bit, std::string_view content) {
  out += "--" + boundary + "\r\n";
  append_field(out, "Content-Description", description);
  append_field(out, "Content-Type", type);
  if (eight_bit) {
    append_field(out, "Content-Transfer-Encoding", "8bit");
  }
  out += "\r\n";
  out.append(content);
  out += "\r\n";
}

}  // namespace

std::string_view action_name(Action action) {
  switch (action) {
    case Action::kFailed:
      return "failed";
    case Action::kDelayed:
      return "delayed";
    case Action::kDelivered:
      return "delivered";
    case Action::kRelayed:
      return "relayed";
    case Action::kExpanded:
      return "expanded";
  }
  return "failed";
}

bool should_notify(uint8_t notify, Action action, std::string_view envelope_sender) {
  if (envelope_sender.empty() || (notify & smtp::kNotifyNever) != 0) {
    return false;
  }
  if (notify == smtp::kNotifyUnset) {
    notify = smtp::kNotifyFailure | smtp::kNotifyDelay;
  }
  switch (action) {
    case Action::kFailed:
      return (notify & smtp::kNotifyFailure) != 0;
    case Action::kDelayed:
      return (notify & smtp::kNotifyDelay) != 0;
    case Action::kDelivered:
    case Action::kRelayed:
    case Action::kExpanded:
      return (notify & smtp::kNotifySuccess) != 0;
  }
  return false;
}

Dsn build_dsn(const DsnRequest& request) {
  RM_ASSERT(!request.recipients.empty());
  RM_ASSERT_MSG(!request.original_sender.empty(), "no report to the null sender");
  const Summary summary = summarize(request.recipients);
  const bool full = summary.failed && request.ret != smtp::Ret::kHdrs &&
                    request.original.size() <= request.returned_bytes_max;
  const Returned original = returned_original(request.original, !full, request.returned_bytes_max);
  const std::string text = notification_text(request, summary, full);
  const std::string status = delivery_status(request);

  Dsn dsn;
  dsn.boundary = choose_boundary(request.queue_id, {text, status, original.text});
  dsn.eight_bit = original.eight_bit;
  std::string& out = dsn.message;
  out.reserve(text.size() + status.size() + original.text.size() + 2048);
  append_top_headers(out, request, summary, dsn.boundary, dsn.utf8_headers);
  out += "\r\nThis is a MIME-encapsulated message.\r\n\r\n";
  append_part(out, dsn.boundary, "Notification", "text/plain; charset=us-ascii", false, text);
  append_part(out, dsn.boundary, "Delivery report", "message/delivery-status", false, status);
  append_part(out, dsn.boundary, full ? "Undelivered Message" : "Message Headers",
              full ? "message/rfc822" : "text/rfc822-headers", original.eight_bit, original.text);
  out += "--" + dsn.boundary + "--\r\n";
  return dsn;
}

}  // namespace rm::dsn
