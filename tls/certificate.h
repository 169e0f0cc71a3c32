// The self-signed certificate made at first start, so that STARTTLS and implicit TLS work
// before an operator installs a real certificate.
//
// ensure_self_signed() leaves an existing certificate/key pair alone. When neither file
// exists it makes an ECDSA P-256 key (RSA 2048 if ECC certificate making fails) and a
// self-signed X.509 v3 certificate for `hostname`: CN and subjectAltName DNS, valid from one
// day ago for ten years, random serial, keyUsage + extKeyUsage serverAuth/clientAuth. Both
// are written as PEM, each to a temporary file in the target directory then renamed over the
// target (the key file is mode 0600, the certificate 0644).
// When exactly one of the two files exists it refuses (AlreadyExists): it never overwrites
// an operator's certificate or key with a pair that would not match the other one.
// Thread-safety: a free function with no shared state (wolfSSL's crypto is thread-safe); do
// not run two calls for the same paths at once.
// Untrusted input: none from peers; `hostname` comes from configuration and is validated
// (letters, digits, '-', '.', 1..253 octets).
#pragma once

#include <string>

#include "core/base/status.h"

namespace rm {

enum class SelfSignedKeyType : unsigned char {
  kEcdsaP256,  // the default; falls back to RSA 2048 if ECC certificate making fails
  kRsa2048,    // for peers that lack ECDSA suites
};

Status ensure_self_signed(const std::string& cert_path, const std::string& key_path,
                          const std::string& hostname,
                          SelfSignedKeyType key_type = SelfSignedKeyType::kEcdsaP256);

}  // namespace rm
