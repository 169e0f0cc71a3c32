// DKIM header fields (RFC 6376 §3.4.1-2, §3.7, §5.4): splitting a header block into fields,
// the simple and relaxed header canonicalizations, which fields a signer covers (h=), the
// bottom-up choice of instances for each name in h=, and the header hash both signer and
// verifier compute.
//
//   Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(header_block);
//   std::vector<std::string> h = dkim_headers_to_sign(*fields, DkimHeaderSelection{});
//   Sha256 hash;
//   dkim_hash_headers(hash, *fields, h, DkimCanon::kRelaxed, "DKIM-Signature: v=1; ...; b=");
//
// Untrusted input: yes — the header block of every received message. Limits:
// kDkimHeaderBlockBytesMax, kDkimHeaderFieldsMax (a longer block is an error).
// Thread-safety: plain functions and values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/crypto/sha256.h"
#include "proto/dkim/body_canon.h"

namespace rm {

inline constexpr size_t kDkimHeaderBlockBytesMax = 4 * 1024 * 1024;
inline constexpr size_t kDkimHeaderFieldsMax = 2000;

struct DkimHeaderField {
  std::string_view name;           // as written, without trailing whitespace
  std::string_view raw;            // the whole field, folding included, without its final line end
  std::string_view value() const;  // everything after the first ':'
};

// A message split at its first empty line. Without one, it is all header and no body.
struct DkimMessageParts {
  std::string_view header_block;  // every header line with its CRLF, not the empty line
  std::string_view body;          // after the empty line
};
DkimMessageParts split_dkim_message(std::string_view message);

// Lines end with CRLF (a bare LF is taken as a line end too); a line starting with SP or HTAB
// continues the field before it. Lines without a ':' are not fields and are skipped.
Result<std::vector<DkimHeaderField>> split_dkim_header_fields(std::string_view header_block);

// Appends the canonical form of one field, CRLF included.
void dkim_canonicalize_header(DkimCanon canon, std::string_view raw_field, std::string& out);

// ASCII case-insensitive equality of header names.
bool dkim_name_equals(std::string_view a, std::string_view b);

// Which fields a signer covers: every present instance of the names in `headers`, plus one
// more of each name in `oversigned` (so that an instance added later breaks the signature).
struct DkimHeaderSelection {
  std::vector<std::string> headers = default_headers();
  std::vector<std::string> oversigned = {"from"};
  static std::vector<std::string> default_headers();
};
// The h= list (lower case) for these fields.
std::vector<std::string> dkim_headers_to_sign(const std::vector<DkimHeaderField>& fields,
                                              const DkimHeaderSelection& selection);

// For each name in `signed_names`, the field it covers: the last instance not yet taken,
// walking up from the bottom (§5.4.2); nullptr where none is left (it contributes nothing).
std::vector<const DkimHeaderField*> dkim_select_headers(
    const std::vector<DkimHeaderField>& fields, const std::vector<std::string>& signed_names);

// The DKIM-Signature field with the value of its b= tag removed (§3.5 "b=" and §3.7).
std::string dkim_remove_b_value(std::string_view raw_field);

// Hashes the selected fields, then `signature_field` (already without its b= value)
// canonicalized and without its final CRLF (§3.7).
void dkim_hash_headers(Sha256& hash, const std::vector<DkimHeaderField>& fields,
                       const std::vector<std::string>& signed_names, DkimCanon canon,
                       std::string_view signature_field);

}  // namespace rm
