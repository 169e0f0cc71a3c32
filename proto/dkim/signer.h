// DkimSigner: DKIM-Signature header fields (RFC 6376 §5, RFC 8463) for a message, one per
// key, so that a domain can sign with RSA and Ed25519 at once.
//
//   std::vector<DkimSignerKey> keys;
//   keys.push_back({"example.com", "sel1", std::move(rsa_key)});
//   DkimSigner signer(std::move(keys));
//   Result<std::vector<std::string>> fields = signer.sign_message(message, now_unix);
//   // prepend each field ("DKIM-Signature: ...\r\n") to the message
//
// Streaming callers hash the body themselves with DkimBodyHasher(signer.body_canon()) and
// call sign(header_block, body_hash, now). The time is passed in: proto/ has no clock.
// Untrusted input: the message (a local submission), bounded as the header block is.
// Thread-safety: an object is used by one thread at a time (signing keys hold an RNG).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "core/crypto/sha256.h"
#include "core/crypto/signing_key.h"
#include "proto/dkim/body_canon.h"
#include "proto/dkim/header_canon.h"

namespace rm {

struct DkimSignerKey {
  std::string domain;    // d=
  std::string selector;  // s=
  SigningKey key;        // its type gives a=
  std::string identity;  // i= ("user@sub.example.com" or "@example.com"); none when empty
};

struct DkimSignerOptions {
  DkimCanon header_canon = DkimCanon::kRelaxed;  // c= header part
  DkimCanon body_canon = DkimCanon::kRelaxed;    // c= body part
  DkimHeaderSelection selection;                 // which fields go into h=
  std::optional<uint64_t> expire_after_s;        // x= = t= + this, none when unset
  size_t line_width = 78;                        // where the field is folded
};

class DkimSigner {
 public:
  explicit DkimSigner(std::vector<DkimSignerKey> keys, DkimSignerOptions options = {});

  DkimCanon body_canon() const { return options_.body_canon; }

  // One complete "DKIM-Signature: ...\r\n" field per key, in the order of the keys.
  // `header_block` is the message's header (the fields with their CRLFs); `body_hash` comes
  // from a DkimBodyHasher made with body_canon(). Refuses a message without a From field and
  // an identity outside its key's domain.
  Result<std::vector<std::string>> sign(std::string_view header_block,
                                        const Sha256::Digest& body_hash, uint64_t now_unix);
  // The same for a whole message in memory (header, empty line, body).
  Result<std::vector<std::string>> sign_message(std::string_view message, uint64_t now_unix);

 private:
  Result<std::string> sign_one(DkimSignerKey& key, const std::vector<DkimHeaderField>& fields,
                               const std::vector<std::string>& signed_names,
                               const Sha256::Digest& body_hash, uint64_t now_unix);

  std::vector<DkimSignerKey> keys_;
  DkimSignerOptions options_;
};

}  // namespace rm
