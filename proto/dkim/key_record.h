// DKIM key records (RFC 6376 §3.6.1, RFC 8463): the TXT record at
// selector._domainkey.domain, "v=DKIM1; k=rsa; p=MIIBIjANBg...".
//
//   Result<DkimKeyRecord> key = parse_dkim_key_record(txt);
//   if (key.ok() && key->revoked()) { /* p= empty: permerror */ }
//
// Untrusted input: yes — TXT records from DNS. Limits: those of the tag list (the record is
// at most kDkimTagListBytesMax) and kDkimKeyBytesMax for p=.
// Thread-safety: plain functions and values.
#pragma once

#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/crypto/signing_key.h"

namespace rm {

inline constexpr size_t kDkimKeyBytesMax = 4096;

struct DkimKeyRecord {
  KeyType type = KeyType::kRsa;  // k=, rsa when absent
  std::string public_key;        // p=, decoded; empty when the key is revoked
  bool allows_sha256 = true;     // h= absent or naming sha256
  bool testing = false;          // t=y
  bool strict_identity = false;  // t=s: i= must be exactly d=, not a subdomain
  bool for_email = true;         // s= absent, "*" or including "email"

  bool revoked() const { return public_key.empty(); }
};

// Unknown tags are ignored; a wrong v=, an unknown k=, or bad base64 in p= are errors whose
// message is the reason for a permerror.
Result<DkimKeyRecord> parse_dkim_key_record(std::string_view txt);

// The record to publish for a public key (as SigningKey::public_der() gives it).
std::string format_dkim_key_record(KeyType type, std::string_view public_der);

}  // namespace rm
