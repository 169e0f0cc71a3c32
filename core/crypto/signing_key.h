// SigningKey and VerifyKey: the public-key signatures DKIM uses (RFC 6376 rsa-sha256, RFC 8463
// ed25519-sha256), over wolfSSL. Both sign a SHA-256 digest: RSA as PKCS#1 v1.5 over the
// DigestInfo, Ed25519 as pure Ed25519 over the 32 digest bytes (what RFC 8463 specifies).
//
//   Result<SigningKey> key = SigningKey::load(pem_file_text);
//   Result<std::string> sig = key->sign(Sha256::hash(data));
//   Result<VerifyKey> pub = VerifyKey::from_der(KeyType::kRsa, p_bytes);
//   bool good = pub->verify(Sha256::hash(data), *sig);
//
// Untrusted input: VerifyKey::from_der takes bytes from DNS; verify() takes signatures from
// messages. Private keys come from the operator (files), but are checked all the same.
// Thread-safety: an object is used by one thread at a time (signing keeps an RNG).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "core/crypto/sha256.h"

namespace rm {

enum class KeyType : uint8_t { kRsa, kEd25519 };

class SigningKey {
 public:
  static constexpr int kRsaBitsDefault = 2048;
  static constexpr size_t kEd25519SeedBytes = 32;

  // PEM ("RSA PRIVATE KEY" PKCS#1, or "PRIVATE KEY" PKCS#8 holding RSA or Ed25519), DER of
  // either, or an Ed25519 seed: 32 raw bytes or their base64.
  static Result<SigningKey> load(std::string_view text);
  static Result<SigningKey> from_der(std::string_view der);
  static Result<SigningKey> from_ed25519_seed(std::string_view seed);
  static Result<SigningKey> generate(KeyType type, int rsa_bits = kRsaBitsDefault);

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  KeyType type() const;
  int bits() const;  // RSA modulus size; 256 for Ed25519
  Result<std::string> sign(const Sha256::Digest& digest);
  // PKCS#1 PEM for RSA, PKCS#8 PEM for Ed25519 (what OpenSSL writes and reads).
  std::string private_pem() const;
  // The public key as DKIM publishes it in p= (before base64): SubjectPublicKeyInfo DER for
  // RSA, the 32 raw bytes for Ed25519.
  std::string public_der() const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class VerifyKey {
 public:
  // RSA: SubjectPublicKeyInfo or a bare RSAPublicKey (both occur in DNS); Ed25519: 32 bytes.
  static Result<VerifyKey> from_der(KeyType type, std::string_view der);

  VerifyKey(VerifyKey&&) noexcept;
  VerifyKey& operator=(VerifyKey&&) noexcept;
  ~VerifyKey();

  KeyType type() const;
  int bits() const;
  bool verify(const Sha256::Digest& digest, std::string_view signature) const;

 private:
  struct Impl;
  explicit VerifyKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// PEM armour: "-----BEGIN <label>-----", base64 lines, "-----END <label>-----".
std::string pem_encode(std::string_view label, std::string_view der);
// The DER inside the first PEM block and its label; an error when there is none.
struct PemBlock {
  std::string label;
  std::string der;
};
Result<PemBlock> pem_decode(std::string_view text);

}  // namespace rm
