#include "core/crypto/signing_key.h"

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <cstring>
#include <vector>

#include "core/base/base64.h"

namespace rm {
namespace {

constexpr int kRsaBitsMax = 8192;
constexpr size_t kRsaDerBytesMax = 8192;
constexpr size_t kPemBytesMax = 64 * 1024;

// DER of DigestInfo{sha256, NULL} followed by the 32 digest bytes (RFC 8017 §9.2 note 1).
constexpr uint8_t kSha256DigestInfoPrefix[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                               0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                               0x01, 0x05, 0x00, 0x04, 0x20};
// PKCS#8 PrivateKeyInfo for Ed25519 up to the 32-byte seed (RFC 8410 §7).
constexpr uint8_t kEd25519Pkcs8Prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                           0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
constexpr uint8_t kEd25519Oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

const byte* bytes(std::string_view s) {
  return reinterpret_cast<const byte*>(s.data());
}

std::string digest_info(const Sha256::Digest& digest) {
  std::string out(reinterpret_cast<const char*>(kSha256DigestInfoPrefix),
                  sizeof(kSha256DigestInfoPrefix));
  out.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  return out;
}

bool has_ed25519_oid(std::string_view der) {
  std::string_view head = der.substr(0, 24);
  return head.find(std::string_view(reinterpret_cast<const char*>(kEd25519Oid),
                                    sizeof(kEd25519Oid))) != std::string_view::npos;
}

Status wolf_error(std::string_view what, int code) {
  return Status::InvalidArgument(std::string(what) + " (wolfSSL error " + std::to_string(code) +
                                 ")");
}

}  // namespace

// ---- PEM ----

std::string pem_encode(std::string_view label, std::string_view der) {
  std::string b64 = base64_encode(der);
  std::string out = "-----BEGIN " + std::string(label) + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out += '\n';
  }
  out += "-----END " + std::string(label) + "-----\n";
  return out;
}

Result<PemBlock> pem_decode(std::string_view text) {
  if (text.size() > kPemBytesMax) {
    return Status::InvalidArgument("PEM text too long");
  }
  constexpr std::string_view kBegin = "-----BEGIN ";
  size_t begin = text.find(kBegin);
  if (begin == std::string_view::npos) {
    return Status::InvalidArgument("no PEM block");
  }
  size_t label_end = text.find("-----", begin + kBegin.size());
  if (label_end == std::string_view::npos) {
    return Status::InvalidArgument("bad PEM header");
  }
  PemBlock block;
  block.label = std::string(text.substr(begin + kBegin.size(), label_end - begin - kBegin.size()));
  size_t body = label_end + 5;
  std::string end_line = "-----END " + block.label + "-----";
  size_t end = text.find(end_line, body);
  if (end == std::string_view::npos) {
    return Status::InvalidArgument("PEM block without its END line");
  }
  std::string b64;
  for (char c : text.substr(body, end - body)) {
    if (c == ':') {
      return Status::Unsupported("encrypted PEM keys are not supported");
    }
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      b64 += c;
    }
  }
  std::optional<std::string> der = base64_decode(b64);
  if (!der || der->empty()) {
    return Status::InvalidArgument("bad base64 in PEM block");
  }
  block.der = std::move(*der);
  return block;
}

// ---- SigningKey ----

struct SigningKey::Impl {
  KeyType type = KeyType::kRsa;
  WC_RNG rng;
  RsaKey rsa;
  ed25519_key ed;
  bool rng_ready = false;
  bool rsa_ready = false;
  bool ed_ready = false;

  ~Impl() {
    if (rsa_ready) {
      wc_FreeRsaKey(&rsa);
    }
    if (ed_ready) {
      wc_ed25519_free(&ed);
    }
    if (rng_ready) {
      wc_FreeRng(&rng);
    }
  }

  Status init_rng() {
    int rc = wc_InitRng(&rng);
    if (rc != 0) {
      return wolf_error("cannot start the random generator", rc);
    }
    rng_ready = true;
    return Status::Ok();
  }
};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

KeyType SigningKey::type() const {
  return impl_->type;
}

int SigningKey::bits() const {
  return impl_->type == KeyType::kRsa ? wc_RsaEncryptSize(&impl_->rsa) * 8 : 256;
}

Result<SigningKey> SigningKey::from_ed25519_seed(std::string_view seed) {
  if (seed.size() != kEd25519SeedBytes) {
    return Status::InvalidArgument("an Ed25519 seed is 32 bytes");
  }
  auto impl = std::make_unique<Impl>();
  impl->type = KeyType::kEd25519;
  RM_RETURN_IF_ERROR(impl->init_rng());
  if (wc_ed25519_init(&impl->ed) != 0) {
    return Status::Internal("cannot initialise an Ed25519 key");
  }
  impl->ed_ready = true;
  int rc = wc_ed25519_import_private_only(bytes(seed), kEd25519SeedBytes, &impl->ed);
  byte pub[ED25519_PUB_KEY_SIZE];
  if (rc == 0) {
    rc = wc_ed25519_make_public(&impl->ed, pub, sizeof(pub));
  }
  if (rc == 0) {
    rc = wc_ed25519_import_private_key(bytes(seed), kEd25519SeedBytes, pub, sizeof(pub), &impl->ed);
  }
  if (rc != 0) {
    return wolf_error("bad Ed25519 private key", rc);
  }
  return SigningKey(std::move(impl));
}

Result<SigningKey> SigningKey::from_der(std::string_view der) {
  if (der.size() > kRsaDerBytesMax) {
    return Status::InvalidArgument("private key too long");
  }
  if (has_ed25519_oid(der)) {
    ed25519_key ed;
    if (wc_ed25519_init(&ed) != 0) {
      return Status::Internal("cannot initialise an Ed25519 key");
    }
    word32 idx = 0;
    int rc = wc_Ed25519PrivateKeyDecode(bytes(der), &idx, &ed, static_cast<word32>(der.size()));
    byte seed[ED25519_KEY_SIZE];
    word32 seed_len = sizeof(seed);
    if (rc == 0) {
      rc = wc_ed25519_export_private_only(&ed, seed, &seed_len);
    }
    wc_ed25519_free(&ed);
    if (rc != 0) {
      return wolf_error("bad Ed25519 PKCS#8 key", rc);
    }
    return from_ed25519_seed(std::string_view(reinterpret_cast<const char*>(seed), seed_len));
  }
  auto impl = std::make_unique<Impl>();
  impl->type = KeyType::kRsa;
  RM_RETURN_IF_ERROR(impl->init_rng());
  if (wc_InitRsaKey(&impl->rsa, nullptr) != 0) {
    return Status::Internal("cannot initialise an RSA key");
  }
  impl->rsa_ready = true;
  std::vector<byte> copy(der.begin(), der.end());
  word32 idx = 0;
  // A PKCS#8 wrapper is skipped (idx then points at the PKCS#1 key inside); a bare PKCS#1
  // key makes this fail, and decoding starts at 0.
  if (wc_GetPkcs8TraditionalOffset(copy.data(), &idx, static_cast<word32>(copy.size())) < 0) {
    idx = 0;
  }
  int rc = wc_RsaPrivateKeyDecode(copy.data(), &idx, &impl->rsa, static_cast<word32>(copy.size()));
  if (rc != 0) {
    return wolf_error("not an RSA or Ed25519 private key", rc);
  }
  int bits = wc_RsaEncryptSize(&impl->rsa) * 8;
  if (bits < 1024 || bits > kRsaBitsMax) {
    return Status::InvalidArgument("RSA key size " + std::to_string(bits) +
                                   " outside 1024..8192 bits");
  }
  wc_RsaSetRNG(&impl->rsa, &impl->rng);
  return SigningKey(std::move(impl));
}

Result<SigningKey> SigningKey::load(std::string_view text) {
  if (text.size() == kEd25519SeedBytes) {
    return from_ed25519_seed(text);
  }
  if (text.find("-----BEGIN ") != std::string_view::npos) {
    Result<PemBlock> block = pem_decode(text);
    if (!block.ok()) {
      return block.status();
    }
    return from_der(block->der);
  }
  std::string trimmed;
  for (char c : text.substr(0, kPemBytesMax)) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      trimmed += c;
    }
  }
  std::optional<std::string> decoded = base64_decode(trimmed);
  if (decoded && decoded->size() == kEd25519SeedBytes) {
    return from_ed25519_seed(*decoded);
  }
  return from_der(text);
}

Result<SigningKey> SigningKey::generate(KeyType type, int rsa_bits) {
  if (type == KeyType::kEd25519) {
    WC_RNG rng;
    if (wc_InitRng(&rng) != 0) {
      return Status::Internal("cannot start the random generator");
    }
    byte seed[kEd25519SeedBytes];
    int rc = wc_RNG_GenerateBlock(&rng, seed, sizeof(seed));
    wc_FreeRng(&rng);
    if (rc != 0) {
      return wolf_error("cannot generate random bytes", rc);
    }
    return from_ed25519_seed(std::string_view(reinterpret_cast<const char*>(seed), sizeof(seed)));
  }
  if (rsa_bits < 1024 || rsa_bits > kRsaBitsMax) {
    return Status::InvalidArgument("RSA key size outside 1024..8192 bits");
  }
  auto impl = std::make_unique<Impl>();
  impl->type = KeyType::kRsa;
  RM_RETURN_IF_ERROR(impl->init_rng());
  if (wc_InitRsaKey(&impl->rsa, nullptr) != 0) {
    return Status::Internal("cannot initialise an RSA key");
  }
  impl->rsa_ready = true;
  int rc = wc_MakeRsaKey(&impl->rsa, rsa_bits, WC_RSA_EXPONENT, &impl->rng);
  if (rc != 0) {
    return wolf_error("RSA key generation failed", rc);
  }
  wc_RsaSetRNG(&impl->rsa, &impl->rng);
  return SigningKey(std::move(impl));
}

Result<std::string> SigningKey::sign(const Sha256::Digest& digest) {
  if (impl_->type == KeyType::kEd25519) {
    byte sig[ED25519_SIG_SIZE];
    word32 sig_len = sizeof(sig);
    int rc = wc_ed25519_sign_msg(digest.data(), static_cast<word32>(digest.size()), sig, &sig_len,
                                 &impl_->ed);
    if (rc != 0) {
      return wolf_error("Ed25519 signing failed", rc);
    }
    return std::string(reinterpret_cast<const char*>(sig), sig_len);
  }
  std::string info = digest_info(digest);
  std::string sig(static_cast<size_t>(wc_RsaEncryptSize(&impl_->rsa)), '\0');
  int rc = wc_RsaSSL_Sign(bytes(info), static_cast<word32>(info.size()),
                          reinterpret_cast<byte*>(sig.data()), static_cast<word32>(sig.size()),
                          &impl_->rsa, &impl_->rng);
  if (rc < 0) {
    return wolf_error("RSA signing failed", rc);
  }
  sig.resize(static_cast<size_t>(rc));
  return sig;
}

std::string SigningKey::private_pem() const {
  if (impl_->type == KeyType::kEd25519) {
    byte seed[ED25519_KEY_SIZE];
    word32 seed_len = sizeof(seed);
    int rc = wc_ed25519_export_private_only(&impl_->ed, seed, &seed_len);
    RM_ASSERT(rc == 0 && seed_len == sizeof(seed));
    std::string der(reinterpret_cast<const char*>(kEd25519Pkcs8Prefix),
                    sizeof(kEd25519Pkcs8Prefix));
    der.append(reinterpret_cast<const char*>(seed), seed_len);
    return pem_encode("PRIVATE KEY", der);
  }
  std::string der(kRsaDerBytesMax, '\0');
  int len = wc_RsaKeyToDer(&impl_->rsa, reinterpret_cast<byte*>(der.data()),
                           static_cast<word32>(der.size()));
  RM_ASSERT(len > 0);
  der.resize(static_cast<size_t>(len));
  return pem_encode("RSA PRIVATE KEY", der);
}

std::string SigningKey::public_der() const {
  if (impl_->type == KeyType::kEd25519) {
    byte pub[ED25519_PUB_KEY_SIZE];
    word32 pub_len = sizeof(pub);
    int rc = wc_ed25519_export_public(&impl_->ed, pub, &pub_len);
    RM_ASSERT(rc == 0);
    return std::string(reinterpret_cast<const char*>(pub), pub_len);
  }
  std::string der(kRsaDerBytesMax, '\0');
  int len = wc_RsaKeyToPublicDer(&impl_->rsa, reinterpret_cast<byte*>(der.data()),
                                 static_cast<word32>(der.size()));
  RM_ASSERT(len > 0);
  der.resize(static_cast<size_t>(len));
  return der;
}

// ---- VerifyKey ----

struct VerifyKey::Impl {
  KeyType type = KeyType::kRsa;
  RsaKey rsa;
  ed25519_key ed;
  bool rsa_ready = false;
  bool ed_ready = false;

  ~Impl() {
    if (rsa_ready) {
      wc_FreeRsaKey(&rsa);
    }
    if (ed_ready) {
      wc_ed25519_free(&ed);
    }
  }
};

VerifyKey::VerifyKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
VerifyKey::VerifyKey(VerifyKey&&) noexcept = default;
VerifyKey& VerifyKey::operator=(VerifyKey&&) noexcept = default;
VerifyKey::~VerifyKey() = default;

KeyType VerifyKey::type() const {
  return impl_->type;
}

int VerifyKey::bits() const {
  return impl_->type == KeyType::kRsa ? wc_RsaEncryptSize(&impl_->rsa) * 8 : 256;
}

Result<VerifyKey> VerifyKey::from_der(KeyType type, std::string_view der) {
  auto impl = std::make_unique<Impl>();
  impl->type = type;
  if (type == KeyType::kEd25519) {
    if (der.size() != ED25519_PUB_KEY_SIZE) {
      return Status::InvalidArgument("an Ed25519 public key is 32 bytes");
    }
    if (wc_ed25519_init(&impl->ed) != 0) {
      return Status::Internal("cannot initialise an Ed25519 key");
    }
    impl->ed_ready = true;
    int rc = wc_ed25519_import_public(bytes(der), ED25519_PUB_KEY_SIZE, &impl->ed);
    if (rc != 0) {
      return wolf_error("bad Ed25519 public key", rc);
    }
    return VerifyKey(std::move(impl));
  }
  if (der.empty() || der.size() > kRsaDerBytesMax) {
    return Status::InvalidArgument("RSA public key of a bad size");
  }
  if (wc_InitRsaKey(&impl->rsa, nullptr) != 0) {
    return Status::Internal("cannot initialise an RSA key");
  }
  impl->rsa_ready = true;
  word32 idx = 0;
  int rc = wc_RsaPublicKeyDecode(bytes(der), &idx, &impl->rsa, static_cast<word32>(der.size()));
  if (rc != 0) {
    return wolf_error("bad RSA public key", rc);
  }
  int bits = wc_RsaEncryptSize(&impl->rsa) * 8;
  if (bits <= 0 || bits > kRsaBitsMax) {
    return Status::InvalidArgument("RSA public key size outside what is supported");
  }
  return VerifyKey(std::move(impl));
}

bool VerifyKey::verify(const Sha256::Digest& digest, std::string_view signature) const {
  if (impl_->type == KeyType::kEd25519) {
    if (signature.size() != ED25519_SIG_SIZE) {
      return false;
    }
    int ok = 0;
    int rc = wc_ed25519_verify_msg(bytes(signature), ED25519_SIG_SIZE, digest.data(),
                                   static_cast<word32>(digest.size()), &ok, &impl_->ed);
    return rc == 0 && ok == 1;
  }
  if (signature.size() != static_cast<size_t>(wc_RsaEncryptSize(&impl_->rsa))) {
    return false;
  }
  std::vector<byte> work(signature.begin(), signature.end());
  byte* decoded = nullptr;
  int len =
      wc_RsaSSL_VerifyInline(work.data(), static_cast<word32>(work.size()), &decoded, &impl_->rsa);
  if (len <= 0 || decoded == nullptr) {
    return false;
  }
  std::string expected = digest_info(digest);
  return static_cast<size_t>(len) == expected.size() &&
         std::memcmp(decoded, expected.data(), expected.size()) == 0;
}

}  // namespace rm
