// Authentication-Results (RFC 8601): building the header field that records what SPF, DKIM
// and DMARC concluded, and finding the ones that already claim our authserv-id so that the
// server can remove them before adding its own (§5: a forged one must not survive).
//
//   MethodResult spf{"spf", "pass", {}, {}, {{"smtp", "mailfrom", "alice@example.com"}}};
//   MethodResult dkim{"dkim", "pass", {}, {},
//                     {{"header", "d", "example.com"}, {"header", "s", "sel"}}};
//   std::string field = build_authentication_results("mx.example.org", {spf, dkim});
//   // "Authentication-Results: mx.example.org;\r\n\tspf=pass smtp.mailfrom=alice@example.com;"
//   // "\r\n\tdkim=pass header.d=example.com header.s=sel\r\n"
//
//   for (ByteRange r : find_authentication_results(headers, "mx.example.org")) { ... }
//
// Every value is written so that it cannot break the field: keywords keep only keyword
// characters, values are quoted when they are not a token or an address, comments have their
// parentheses escaped, control characters (CR and LF among them) are dropped, and values and
// comments longer than kValueBytesMax are cut. Lines are folded before 78 columns where
// spaces allow; no line exceeds 998 octets.
// Untrusted input: property values and comments (addresses, domains from the client) are
// made safe as above; header blocks given to the finder are scanned once, linearly.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rm::mail_auth {

inline constexpr size_t kValueBytesMax = 512;  // per property value, reason or comment
inline constexpr size_t kFoldColumn = 78;

struct Property {
  std::string ptype;  // "smtp", "header", "body", "policy"
  std::string name;   // "mailfrom", "helo", "d", "s", "b", "i", "from"
  std::string value;  // anything; quoted as needed
};

struct MethodResult {
  std::string method;   // "spf", "dkim", "dmarc", ...
  std::string result;   // "pass", "fail", "none", "temperror", ...
  std::string comment;  // written as "(comment)" after the result when not empty
  std::string reason;   // written as reason="..." when not empty
  std::vector<Property> properties;
};

// One resinfo without folding: `dmarc=fail (p=reject dis=none) header.from=example.com`.
std::string format_method_result(const MethodResult& result);

// The whole header field, "Authentication-Results: " to the final CRLF. With no results the
// field says "none" (RFC 8601 §2.2: no authentication was done).
std::string build_authentication_results(std::string_view authserv_id,
                                         std::span<const MethodResult> results);

// A property value as RFC 8601 allows it: bare when a token or local-part@domain, else a
// quoted-string.
std::string format_value(std::string_view value);

struct ByteRange {
  size_t offset = 0;
  size_t size = 0;
  bool operator==(const ByteRange&) const = default;
};

// The Authentication-Results fields of the header block whose authserv-id (the first token
// of the value, comments skipped) equals `authserv_id` ignoring ASCII case and a trailing
// dot: each range covers the whole field with its folded lines and its line end, in order.
std::vector<ByteRange> find_authentication_results(std::string_view header_block,
                                                   std::string_view authserv_id);

// `text` without the given ranges (sorted, non-overlapping, inside the text).
std::string erase_ranges(std::string_view text, std::span<const ByteRange> ranges);

}  // namespace rm::mail_auth
