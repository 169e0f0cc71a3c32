// SigningKey and VerifyKey (core/crypto) are tested here, with the DKIM code that uses them.
#include "core/crypto/signing_key.h"

#include <gtest/gtest.h>

#include "core/base/base64.h"

namespace rm {
namespace {

// RFC 8463 §A.1 (the RFC 8032 §7.1 test 1 key).
constexpr std::string_view kRfcSeedB64 = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
constexpr std::string_view kRfcPublicB64 = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

TEST(DkimSigningKeyTest, Ed25519FromSeedGivesThePublishedPublicKey) {
  Result<SigningKey> key = SigningKey::load(kRfcSeedB64);
  ASSERT_TRUE(key.ok()) << key.status().to_string();
  EXPECT_EQ(key->type(), KeyType::kEd25519);
  EXPECT_EQ(base64_encode(key->public_der()), kRfcPublicB64);
  // Its PKCS#8 PEM loads back to the same key.
  Result<SigningKey> again = SigningKey::load(key->private_pem());
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->public_der(), key->public_der());
  EXPECT_NE(key->private_pem().find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
}

TEST(DkimSigningKeyTest, SignAndVerifyBothTypes) {
  for (KeyType type : {KeyType::kRsa, KeyType::kEd25519}) {
    Result<SigningKey> key = SigningKey::generate(type);
    ASSERT_TRUE(key.ok()) << key.status().to_string();
    Sha256::Digest digest = Sha256::hash("message");
    Result<std::string> sig = key->sign(digest);
    ASSERT_TRUE(sig.ok()) << sig.status().to_string();
    Result<VerifyKey> pub = VerifyKey::from_der(type, key->public_der());
    ASSERT_TRUE(pub.ok()) << pub.status().to_string();
    EXPECT_TRUE(pub->verify(digest, *sig));
    EXPECT_FALSE(pub->verify(Sha256::hash("other"), *sig));
    std::string bad = *sig;
    bad[bad.size() / 2] ^= 1;
    EXPECT_FALSE(pub->verify(digest, bad));
    EXPECT_FALSE(pub->verify(digest, ""));
    // The PEM round trip keeps the key.
    Result<SigningKey> reloaded = SigningKey::load(key->private_pem());
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().to_string();
    EXPECT_EQ(reloaded->public_der(), key->public_der());
    if (type == KeyType::kRsa) {
      EXPECT_EQ(key->bits(), 2048);
      EXPECT_EQ(pub->bits(), 2048);
      EXPECT_NE(key->private_pem().find("-----BEGIN RSA PRIVATE KEY-----"), std::string::npos);
    }
  }
}

// DER TLV with a definite length (short or long form).
std::string tlv(uint8_t tag, std::string_view content) {
  std::string out(1, static_cast<char>(tag));
  if (content.size() < 128) {
    out += static_cast<char>(content.size());
  } else {
    std::string len;
    for (size_t n = content.size(); n != 0; n >>= 8) {
      len.insert(len.begin(), static_cast<char>(n & 0xff));
    }
    out += static_cast<char>(0x80 | len.size());
    out += len;
  }
  return out + std::string(content);
}

TEST(DkimSigningKeyTest, LoadsRsaKeysWrappedInPkcs8) {
  Result<SigningKey> key = SigningKey::generate(KeyType::kRsa);
  ASSERT_TRUE(key.ok());
  Result<PemBlock> pkcs1 = pem_decode(key->private_pem());
  ASSERT_TRUE(pkcs1.ok());
  const std::string rsa_oid = "\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01";
  std::string algorithm = tlv(0x30, rsa_oid + std::string("\x05\x00", 2));
  std::string pkcs8 = tlv(0x30, std::string("\x02\x01\x00", 3) + algorithm + tlv(0x04, pkcs1->der));
  Result<SigningKey> wrapped = SigningKey::load(pem_encode("PRIVATE KEY", pkcs8));
  ASSERT_TRUE(wrapped.ok()) << wrapped.status().to_string();
  EXPECT_EQ(wrapped->type(), KeyType::kRsa);
  EXPECT_EQ(wrapped->public_der(), key->public_der());
  Result<SigningKey> der = SigningKey::load(pkcs8);
  ASSERT_TRUE(der.ok()) << der.status().to_string();
}

TEST(DkimSigningKeyTest, RejectsGarbage) {
  EXPECT_FALSE(SigningKey::load("not a key").ok());
  EXPECT_FALSE(
      SigningKey::load("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").ok());
  EXPECT_FALSE(SigningKey::load("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n").ok());
  EXPECT_FALSE(VerifyKey::from_der(KeyType::kEd25519, "short").ok());
  EXPECT_FALSE(VerifyKey::from_der(KeyType::kRsa, "garbage").ok());
  EXPECT_FALSE(VerifyKey::from_der(KeyType::kRsa, "").ok());
}

TEST(DkimSigningKeyTest, PemArmour) {
  std::string pem = pem_encode("TEST", std::string(100, 'x'));
  Result<PemBlock> block = pem_decode("junk before\n" + pem);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->label, "TEST");
  EXPECT_EQ(block->der, std::string(100, 'x'));
}

}  // namespace
}  // namespace rm
