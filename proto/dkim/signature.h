// The DKIM-Signature header field (RFC 6376 §3.5, RFC 8463): parsed from the field's value
// into DkimSignature, with every check that needs no DNS and no clock (required tags, v=1,
// a known algorithm, i= within d=, h= naming From, x= not before t=).
//
//   Result<DkimSignature> sig = parse_dkim_signature(field_value);
//   if (!sig.ok()) { /* permerror, reason sig.status().message() */ }
//
// Untrusted input: yes — header fields of received messages. Limits: those of the tag list,
// kDkimSignedHeadersMax names in h=, kDkimDomainBytesMax for d= and s=.
// Thread-safety: plain functions and values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/crypto/signing_key.h"
#include "proto/dkim/body_canon.h"

namespace rm {

inline constexpr size_t kDkimSignedHeadersMax = 128;
inline constexpr size_t kDkimDomainBytesMax = 255;

enum class DkimAlgorithm : uint8_t { kRsaSha256, kEd25519Sha256 };

std::string_view dkim_algorithm_name(DkimAlgorithm algorithm);  // "rsa-sha256", ...
std::optional<DkimAlgorithm> dkim_algorithm_from_name(std::string_view name);
KeyType dkim_key_type(DkimAlgorithm algorithm);
std::string_view dkim_canon_name(DkimCanon canon);  // "simple" / "relaxed"

struct DkimSignature {
  DkimAlgorithm algorithm = DkimAlgorithm::kRsaSha256;
  std::string signature;      // b=, decoded
  std::string signature_b64;  // b= as written, without whitespace (header.b comes from it)
  std::string body_hash;      // bh=, decoded
  DkimCanon header_canon = DkimCanon::kSimple;
  DkimCanon body_canon = DkimCanon::kSimple;
  std::string domain;                       // d=, lower case
  std::string selector;                     // s=
  std::string identity;                     // i=, "@" + d= when absent
  std::vector<std::string> signed_headers;  // h=, lower case, in order
  std::optional<uint64_t> body_length;      // l=
  std::optional<uint64_t> timestamp;        // t=
  std::optional<uint64_t> expiration;       // x=

  // "selector._domainkey.domain": the name whose TXT record holds the key.
  std::string key_query_name() const;
};

// `value` is the field's value (after "DKIM-Signature:"), folding included.
Result<DkimSignature> parse_dkim_signature(std::string_view value);

// Decimal digits only, at most `digits_max` of them; no sign, no spaces.
std::optional<uint64_t> dkim_parse_number(std::string_view text, size_t digits_max);

}  // namespace rm
