// ReplyParser: an SMTP server's replies, parsed incrementally (RFC 5321 §4.2).
//
// Bytes from the server go in, split anywhere; complete replies come out. A reply is one or
// more lines "CODE-text" ending with a line "CODE text" (or just "CODE"); every line of one
// reply must carry the same code. An RFC 3463 enhanced status code ("5.1.1") at the start of
// the text is split off when its class matches the reply's first digit.
// Lines end with CRLF; a bare LF is tolerated (RFC 5321 §4.1.1.1 asks clients to be
// robust here), and a CR before it is dropped.
// Limits: a line longer than line_bytes_max or a reply of more than lines_max lines is an
// error, found without waiting for the line's end. Any error is sticky: the byte stream
// cannot be resynchronised, so the connection is done.
// Thread-safety: none; one parser per connection.
// Untrusted input: yes — everything the server sends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace rm::smtp {

// One complete reply from a server.
struct ServerReply {
  int code = 0;                    // 200..599
  std::string enhanced;            // "5.1.1"; empty when the server gave none
  std::vector<std::string> lines;  // each line's text, code and enhanced code removed

  bool positive() const { return code >= 200 && code < 300; }
  bool transient() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // "550 5.1.1 first line second line": one line, for logs and delivery reports.
  std::string summary() const;
};

struct ReplyLimits {
  size_t line_bytes_max = 4096;  // one line's bytes, its line end excluded
  size_t lines_max = 1000;       // lines in one reply
};

class ReplyParser {
 public:
  explicit ReplyParser(ReplyLimits limits = {}) : limits_(limits) {}

  // Parses `input`, appending every reply it completes to `out`. On malformed input returns
  // the error, with the replies completed before it already in `out`; from then on every
  // call returns that error.
  Status feed(std::string_view input, std::vector<ServerReply>& out);
  // Part of a reply (a partial line, or lines of an unfinished multi-line reply) is held.
  bool partial() const { return !line_.empty() || !reply_.lines.empty(); }
  // Drops whatever is held and any error (after STARTTLS, RFC 3207 §4.2).
  void reset();

 private:
  Status take_line(std::string_view line, std::vector<ServerReply>& out);
  Status fail(std::string message);

  ReplyLimits limits_;
  std::string line_;   // an incomplete line carried over from the previous feed
  ServerReply reply_;  // the lines of the reply being assembled
  Status error_;
};

}  // namespace rm::smtp
