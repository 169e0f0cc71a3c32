// IMAP FETCH ENVELOPE and BODYSTRUCTURE / BODY strings (RFC 9051 §7.5.2) from a MimeTree.
//
//   Result<MimeTree> tree = parse_mime(message);
//   std::string env = imap_envelope(message.substr(0, tree->parts[0].header_size));
//   std::string bs = imap_bodystructure(*tree, message, /*extensible=*/true);
//
// Choices (close to what Dovecot sends):
//   - type, subtype, parameter names and values, encoding are sent as written, as quoted
//     strings ("text" "plain"); a text part without a charset gets ("charset" "us-ascii"),
//     a part without Content-Transfer-Encoding "7BIT".
//   - sizes are of the bytes as stored (what BODY[section] returns), lines as in MimePart.
//   - a string is quoted when all its bytes are 0x01-0x7F without CR or LF; anything else
//     (8-bit, CR, LF) is sent as a literal {n}\r\n...; NUL bytes are dropped from both.
//   - header values are unfolded and otherwise raw (encoded words as written), the first
//     occurrence of a field counts, Sender and Reply-To default to From, an absent field
//     or an empty address list is NIL.
//   - Content-Language is always a list ("en" "fr"), NIL when absent.
// Untrusted input: the message bytes and the tree (which may come from decode_mime_tree:
// offsets past the message are clamped). Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "proto/mime/mime_tree.h"

namespace rm::mime {

// Addresses read per address field of an ENVELOPE; more are dropped.
inline constexpr size_t kEnvelopeAddressesMax = 1000;

// An IMAP string: quoted or a literal (see above).
void append_imap_string(std::string& out, std::string_view s);
// NIL for nullopt.
void append_imap_nstring(std::string& out, std::optional<std::string_view> s);

std::string imap_envelope(std::string_view header_block);

std::string imap_bodystructure(const MimeTree& tree, std::string_view message, bool extensible);

// [offset, offset + size) of `message`, clamped to its end.
std::string_view mime_slice(std::string_view message, uint64_t offset, uint64_t size);

}  // namespace rm::mime
