// FETCH BODY[section] / BINARY[section] and SEARCH text, from a MimeTree and the message.
//
//   MimeSection s{{1, 2}, MimeSection::Kind::kMime, {}};        // BODY[1.2.MIME]
//   Result<std::string> bytes = extract_section(tree, message, s);
//
// Part numbers follow RFC 9051 §6.4.5: the parts of a multipart are numbered from 1; a
// message that is not multipart has one part, 1, its body; the number after a
// message/rfc822 part indexes the embedded message the same way. HEADER, HEADER.FIELDS,
// HEADER.FIELDS.NOT and TEXT apply to the message (empty part list) or to a message/rfc822
// part (its embedded message); on any other part they give an empty string, as does a part
// that does not exist. HEADER.FIELDS returns the matching fields as written, then a blank
// line ("\r\n") — also when nothing matches.
// Untrusted input: the message, the tree, the section (from a client command).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "proto/mime/mime_tree.h"

namespace rm::mime {

struct MimeSection {
  std::vector<uint32_t> part;  // {} = the whole message; {1, 2} = "1.2"
  enum class Kind {
    kAll,
    kHeader,
    kHeaderFields,
    kHeaderFieldsNot,
    kText,
    kMime
  } kind = Kind::kAll;
  std::vector<std::string> fields;  // for kHeaderFields / kHeaderFieldsNot
};

// The part `path` names, or NotFound. {} names part 0 (the whole message).
Result<uint32_t> resolve_mime_part(const MimeTree& tree, std::span<const uint32_t> path);

// The section's bytes; an empty string for a part that does not exist. InvalidArgument
// for kMime with an empty part list (RFC 9051 allows MIME only after a part number).
Result<std::string> extract_section(const MimeTree& tree, std::string_view message,
                                    const MimeSection& section);

// BINARY[part]: the body of part `index` with its Content-Transfer-Encoding removed
// (base64, quoted-printable; 7bit, 8bit, binary unchanged). Unsupported for any other
// encoding: the IMAP answer is NO [UNKNOWN-CTE]. InvalidArgument for a bad index.
Result<std::string> decode_part_body(const MimeTree& tree, std::string_view message,
                                     uint32_t index);

// SEARCH BODY / TEXT: the transfer-decoded text of every text/* leaf part, converted to
// UTF-8 when its charset is known (charset.h; otherwise the bytes as they are), parts
// separated by "\n". Parts with an unknown transfer encoding are skipped.
std::string body_text_utf8(const MimeTree& tree, std::string_view message);

}  // namespace rm::mime
