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
