// DKIM signing in ringmaild: the key set the server signs outbound mail with (DkimKeyring,
// loaded from the store at start and replaced after every "dkim" admin change), and signing
// one message with the stored keys of its From domain (or of the envelope sender's domain).
//
//   std::shared_ptr<const DkimKeySet> keys = keyring.get();
//   const std::string domain = dkim_signing_domain(*keys, message, envelope_sender);
//   if (!domain.empty()) {
//     Result<std::string> fields = dkim_sign(*keys, domain, message, now_unix);
//     // send *fields + message
//   }
//
// Signing is relaxed/relaxed over the default header list with From oversigned, one
// DKIM-Signature per key of the domain (rsa-sha256 and ed25519-sha256 may both be there).
// RSA-2048 costs about a millisecond per message: call dkim_sign on a blocking lane.
// Untrusted input: the message (header block bounded by the DKIM header limits).
// Thread-safety: DkimKeyring is safe from any thread; the functions are plain (keys are
// parsed per call, so concurrent signers share nothing).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "store/account/dkim_keys.h"

namespace rm {

class DkimKeyring {
 public:
  DkimKeyring() : keys_(std::make_shared<const DkimKeySet>()) {}

  std::shared_ptr<const DkimKeySet> get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return keys_;
  }
  void set(std::shared_ptr<const DkimKeySet> keys) {
    std::lock_guard<std::mutex> lock(mu_);
    keys_ = std::move(keys);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const DkimKeySet> keys_;  // GUARDED_BY(mu_)
};

// The domain of the (first) address in the From field, lower case; "" when there is none.
std::string dkim_from_domain(std::string_view message);

// The From domain when it has keys, else the domain of `sender` (the envelope sender) when
// it has keys, else "".
std::string dkim_signing_domain(const DkimKeySet& keys, std::string_view message,
                                std::string_view sender);

// The DKIM-Signature fields (each ending in CRLF, concatenated) for `message` (CRLF line
// ends) with every key of `domain`; "" when the domain has none.
Result<std::string> dkim_sign(const DkimKeySet& keys, std::string_view domain,
                              std::string_view message, uint64_t now_unix);

}  // namespace rm
