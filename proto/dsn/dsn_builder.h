// The delivery status notification (DSN) builder: RFC 3464 reports in an RFC 6522
// multipart/report, with the DSN options of RFC 3461 (NOTIFY, RET, ENVID, ORCPT) and the
// Auto-Submitted header of RFC 3834.
//
// build_dsn is pure: the caller supplies every value that would need a clock, a counter or
// the queue (the Date, the Message-ID, the per-recipient results, the original message), and
// gets the message back in wire form (CRLF line endings, no line longer than 998 octets,
// the MIME boundary found nowhere in the content). The message has three parts:
//   1. text/plain: which recipients failed, are delayed or were delivered, and why, quoting
//      the remote server's reply;
//   2. message/delivery-status: Original-Envelope-Id, Reporting-MTA, Arrival-Date, then per
//      recipient Original-Recipient, Final-Recipient, Action, Status, Remote-MTA,
//      Diagnostic-Code, Last-Attempt-Date, Will-Retry-Until;
//   3. the original: message/rfc822 (all of it) when the report holds a failed recipient,
//      RET is FULL or unset and the message is at most returned_bytes_max; otherwise
//      text/rfc822-headers (its header section, cut at returned_bytes_max). Reports without
//      a failure ("delayed", "delivered", ...) return the headers only, as RFC 3461 asks RET
//      to apply to failures.
//
// should_notify says whether a recipient's NOTIFY bits (proto/smtp/command.h) ask for a
// report of the given action, and never allows one to the null sender (no bounce of a
// bounce).
//
// Untrusted input: the original message (any bytes: its line endings are made CRLF and its
// over-long lines broken), the remote server's reply, and the addresses, ENVID and ORCPT
// that came from SMTP clients: in the report's fields every byte outside printable US-ASCII
// is written as an xtext "+XX" escape, in the text part as '?'.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/date.h"
#include "proto/smtp/command.h"

namespace rm::dsn {

enum class Action : uint8_t { kFailed, kDelayed, kDelivered, kRelayed, kExpanded };

// "failed", "delayed", "delivered", "relayed", "expanded".
std::string_view action_name(Action action);

struct RecipientReport {
  std::string address;  // the envelope recipient: Final-Recipient
  std::string orcpt;    // ORCPT= as stored ("rfc822;addr", xtext decoded); "" when absent
  Action action = Action::kFailed;
  std::string status;      // enhanced status "5.1.1"; anything malformed becomes x.0.0
  std::string remote_mta;  // the host that answered; "" when none did
  std::string diagnostic_type = "smtp";  // Diagnostic-Code type ("smtp", "x-unix")
  std::string diagnostic;           // the reply ("550 5.1.1 unknown user"); "" when there is none
  int64_t last_attempt_unix_s = 0;  // 0: no Last-Attempt-Date
  int64_t will_retry_until_unix_s = 0;  // delayed only; 0: no Will-Retry-Until
};

struct DsnRequest {
  std::string reporting_mta;    // this server's hostname
  std::string queue_id;         // the original message's queue id (text and boundary)
  std::string message_id;       // the report's Message-ID, with its angle brackets
  std::string original_sender;  // the envelope sender, the report's To; never empty
  std::string envid;            // ENVID= (xtext decoded); "" when absent
  smtp::Ret ret = smtp::Ret::kUnset;
  int64_t arrival_unix_s = 0;               // 0: no Arrival-Date
  int64_t date_unix_s = 0;                  // the report's Date
  std::vector<RecipientReport> recipients;  // at least one
  std::string_view original;                // the original message in wire form (CRLF)
  size_t returned_bytes_max = 50000;        // larger messages are returned as headers only
};

struct Dsn {
  std::string message;        // the whole report, CRLF line endings
  std::string boundary;       // the multipart boundary (absent from every part's content)
  bool eight_bit = false;     // the returned original has 8-bit bytes: send with 8BITMIME
  bool utf8_headers = false;  // the To address has 8-bit bytes: send with SMTPUTF8
};

// REQUIRES: request.recipients is not empty, request.original_sender is not empty (see
// should_notify).
Dsn build_dsn(const DsnRequest& request);

// Whether a recipient with NOTIFY bits `notify` gets a report of `action` sent to
// `envelope_sender`. Unset NOTIFY means FAILURE,DELAY; NEVER means none; SUCCESS covers
// delivered, relayed and expanded. Never true for the null sender ("").
bool should_notify(uint8_t notify, Action action, std::string_view envelope_sender);

// "Thu, 24 Nov 2022 18:22:48 +0000" (RFC 5322, UTC, independent of the locale).


}  // namespace rm::dsn
