#include "proto/dkim/verifier.h"

#include <gtest/gtest.h>

#include "core/base/base64.h"
#include "proto/dkim/key_record.h"
#include "proto/dkim/signer.h"

namespace rm {
namespace {

// RFC 8463 Appendix A: the message signed with Ed25519 and with a 1024-bit RSA key.
constexpr std::string_view kRfcEdSignature =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n";
constexpr std::string_view kRfcRsaSignature =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n";
constexpr std::string_view kRfcMessage =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";
constexpr std::string_view kRfcEdRecord =
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr std::string_view kRfcRsaRecord =
    "v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/"
    "8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+"
    "2kryOTIKT+l/K4w3QIDAQAB";
constexpr std::string_view kRfcSeedB64 = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
// A 512-bit RSA public key: too short to be trusted.
constexpr std::string_view kShortRsaRecord =
    "v=DKIM1; "
    "p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBALWxp+dRcRjqfYGZCJ/"
    "dMKqE8EoShY5yqWtf1QdXUecMHO3P2KntSBrXgpmtgd3qD"
    "FyjVbcxJyE2s7ryf40PzAsCAwEAAQ==";

using Records = std::vector<std::pair<std::string, std::string>>;

std::vector<DkimResult> verify(std::string_view message, const Records& records,
                               uint64_t now = 1600000000, DkimVerifyOptions options = {}) {
  DkimMessageParts parts = split_dkim_message(message);
  DkimVerifier v(parts.header_block, now, options);
  // Any split of the body gives the same result.
  for (size_t i = 0; i < parts.body.size(); i += 7) {
    v.update_body(parts.body.substr(i, 7));
  }
  v.finish_body();
  for (const std::string& name : v.key_queries()) {
    bool found = false;
    for (const auto& [n, txt] : records) {
      if (n == name) {
        v.provide_key(name, {txt});
        found = true;
      }
    }
    if (!found) {
      v.provide_key_error(name, DkimDnsError::kNoRecord);
    }
  }
  EXPECT_TRUE(v.done());
  return v.results();
}

TEST(DkimVerifierTest, VerifiesTheRfc8463Example) {
  std::string message =
      std::string(kRfcEdSignature) + std::string(kRfcRsaSignature) + std::string(kRfcMessage);
  Records records = {{"brisbane._domainkey.football.example.com", std::string(kRfcEdRecord)},
                     {"test._domainkey.football.example.com", std::string(kRfcRsaRecord)}};
  std::vector<DkimResult> results = verify(message, records);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].status, DkimStatus::kPass) << results[0].reason;
  EXPECT_EQ(results[0].algorithm, DkimAlgorithm::kEd25519Sha256);
  EXPECT_EQ(results[0].authentication_results(),
            "dkim=pass header.d=football.example.com header.s=brisbane header.b=/gCrinpc");
  EXPECT_EQ(results[1].status, DkimStatus::kPass) << results[1].reason;
  EXPECT_EQ(results[1].algorithm, DkimAlgorithm::kRsaSha256);
  EXPECT_EQ(results[1].header_b, "F45dVWDf");
}

TEST(DkimVerifierTest, ReproducesTheRfc8463Ed25519SignatureExactly) {
  Result<SigningKey> key = SigningKey::load(kRfcSeedB64);
  ASSERT_TRUE(key.ok());
  DkimMessageParts parts = split_dkim_message(kRfcMessage);
  DkimBodyHasher body(DkimCanon::kRelaxed);
  body.update(parts.body);
  Sha256::Digest bh = body.finish();
  EXPECT_EQ(base64_encode(std::string_view(reinterpret_cast<const char*>(bh.data()), bh.size())),
            "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
  Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(parts.header_block);
  ASSERT_TRUE(fields.ok());
  std::string unsigned_field =
      dkim_remove_b_value(kRfcEdSignature.substr(0, kRfcEdSignature.size() - 2));
  Sha256 hash;
  dkim_hash_headers(hash, *fields,
                    {"from", "to", "subject", "date", "message-id", "from", "subject", "date"},
                    DkimCanon::kRelaxed, unsigned_field);
  Result<std::string> sig = key->sign(hash.finish());
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(
      base64_encode(*sig),
      "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
}

class DkimSignVerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new SigningKey(std::move(SigningKey::generate(KeyType::kRsa).value()));
    ed_ = new SigningKey(std::move(SigningKey::generate(KeyType::kEd25519).value()));
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete ed_;
  }

  static Records records() {
    return {
        {"rsa._domainkey.example.org", format_dkim_key_record(KeyType::kRsa, rsa_->public_der())},
        {"ed._domainkey.example.org",
         format_dkim_key_record(KeyType::kEd25519, ed_->public_der())}};
  }

  // The message signed with both keys.
  static std::string sign(std::string_view message, DkimSignerOptions options = {}) {
    std::vector<DkimSignerKey> keys;
    keys.push_back(
        {"example.org", "rsa", std::move(SigningKey::load(rsa_->private_pem()).value())});
    keys.push_back({"example.org", "ed", std::move(SigningKey::load(ed_->private_pem()).value())});
    DkimSigner signer(std::move(keys), std::move(options));
    Result<std::vector<std::string>> fields = signer.sign_message(message, 1700000000);
    EXPECT_TRUE(fields.ok()) << fields.status().to_string();
    std::string out;
    for (const std::string& f : *fields) {
      out += f;
    }
    return out + std::string(message);
  }

  static void expect_all(const std::vector<DkimResult>& results, DkimStatus status,
                         std::string_view reason) {
    ASSERT_EQ(results.size(), 2u);
    for (const DkimResult& r : results) {
      EXPECT_EQ(r.status, status) << r.authentication_results();
      EXPECT_EQ(r.reason, reason);
    }
  }

  static inline SigningKey* rsa_ = nullptr;
  static inline SigningKey* ed_ = nullptr;
};

constexpr std::string_view kMessage =
    "Received: from a by b\r\n"
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.net\r\n"
    "Subject: a   folded\r\n"
    "  subject line\r\n"
    "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "\r\n"
    "Hello  Bob, \r\n"
    "\r\n"
    "\r\n";

TEST_F(DkimSignVerifyTest, BothAlgorithmsAndCanonicalizationsPass) {
  for (DkimCanon hc : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
    for (DkimCanon bc : {DkimCanon::kSimple, DkimCanon::kRelaxed}) {
      DkimSignerOptions options;
      options.header_canon = hc;
      options.body_canon = bc;
      std::string signed_message = sign(kMessage, options);
      std::vector<DkimResult> results = verify(signed_message, records());
      expect_all(results, DkimStatus::kPass, "");
      EXPECT_EQ(results[0].algorithm, DkimAlgorithm::kRsaSha256);
      EXPECT_EQ(results[1].algorithm, DkimAlgorithm::kEd25519Sha256);
      EXPECT_EQ(results[1].domain, "example.org");
      EXPECT_EQ(results[1].selector, "ed");
    }
  }
}

TEST_F(DkimSignVerifyTest, SignatureFieldIsFoldedAndOversignsFrom) {
  std::string signed_message = sign(kMessage);
  size_t end = signed_message.find("\r\nDKIM-Signature");
  std::string_view first = std::string_view(signed_message).substr(0, end);
  size_t line_start = 0;
  while (line_start < first.size()) {
    size_t eol = first.find("\r\n", line_start);
    size_t len = (eol == std::string_view::npos ? first.size() : eol) - line_start;
    EXPECT_LE(len, 78u);
    line_start = eol == std::string_view::npos ? first.size() : eol + 2;
  }
  EXPECT_NE(first.find("h=from:from:subject:date:to;"), std::string_view::npos) << first;
  EXPECT_NE(first.find("c=relaxed/relaxed;"), std::string_view::npos);
  EXPECT_NE(first.find("t=1700000000;"), std::string_view::npos);
  // Adding a second From breaks it, since From was oversigned.
  std::vector<DkimResult> results =
      verify("From: mallory@evil.example\r\n" + signed_message, records());
  expect_all(results, DkimStatus::kFail, "signature did not verify");
  // An unsigned header may be added.
  expect_all(verify("X-Added: yes\r\n" + signed_message, records()), DkimStatus::kPass, "");
}

TEST_F(DkimSignVerifyTest, LongHeaderListsFoldAndStillVerify) {
  std::string message;
  for (std::string_view name :
       {"To", "Cc", "List-Id", "List-Unsubscribe", "List-Post", "References", "Reply-To"}) {
    for (int i = 0; i < 4; ++i) {
      message += std::string(name) + ": value " + std::to_string(i) + "\r\n";
    }
  }
  message += "From: a@example.org\r\n\r\nbody\r\n";
  DkimSignerOptions options;
  options.header_canon = DkimCanon::kSimple;
  std::string signed_message = sign(message, options);
  EXPECT_NE(signed_message.find("list-unsubscribe:list-unsubscribe:"), std::string::npos);
  expect_all(verify(signed_message, records()), DkimStatus::kPass, "");
}

TEST_F(DkimSignVerifyTest, StreamedBodyHashGivesTheSameSignature) {
  std::vector<DkimSignerKey> keys;
  keys.push_back({"example.org", "ed", std::move(SigningKey::load(ed_->private_pem()).value())});
  DkimSigner signer(std::move(keys));
  DkimMessageParts parts = split_dkim_message(kMessage);
  DkimBodyHasher hasher(signer.body_canon());
  for (char c : parts.body) {
    hasher.update(std::string_view(&c, 1));
  }
  Result<std::vector<std::string>> streamed =
      signer.sign(parts.header_block, hasher.finish(), 1700000000);
  Result<std::vector<std::string>> whole = signer.sign_message(kMessage, 1700000000);
  ASSERT_TRUE(streamed.ok() && whole.ok());
  EXPECT_EQ(*streamed, *whole);                                      // Ed25519 is deterministic
  EXPECT_FALSE(signer.sign("To: x\r\n", Sha256::Digest{}, 1).ok());  // no From
}

TEST_F(DkimSignVerifyTest, IdentityIsWrittenAndChecked) {
  std::vector<DkimSignerKey> keys;
  keys.push_back({"example.org", "ed", std::move(SigningKey::load(ed_->private_pem()).value()),
                  "bot@Mail.Example.org"});
  DkimSigner signer(std::move(keys));
  Result<std::vector<std::string>> fields = signer.sign_message(kMessage, 1700000000);
  ASSERT_TRUE(fields.ok()) << fields.status().to_string();
  std::vector<DkimResult> r = verify((*fields)[0] + std::string(kMessage), records());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, DkimStatus::kPass) << r[0].reason;
  EXPECT_EQ(r[0].identity, "bot@Mail.Example.org");
  Records strict = {{"ed._domainkey.example.org", records()[1].second + "; t=s"}};
  EXPECT_EQ(verify((*fields)[0] + std::string(kMessage), strict)[0].reason,
            "key has t=s and i= is a subdomain of d=");
  for (std::string_view bad : {"bot@badexample.org", "no-at-sign", "@org"}) {
    std::vector<DkimSignerKey> k;
    k.push_back({"example.org", "ed", std::move(SigningKey::load(ed_->private_pem()).value()),
                 std::string(bad)});
    EXPECT_FALSE(DkimSigner(std::move(k)).sign_message(kMessage, 1).ok()) << bad;
  }
}

TEST_F(DkimSignVerifyTest, TamperingFails) {
  std::string signed_message = sign(kMessage);
  std::string body = signed_message;
  body.replace(body.find("Hello"), 5, "Jello");
  expect_all(verify(body, records()), DkimStatus::kFail, "body hash did not verify");
  std::string header = signed_message;
  header.replace(header.find("Subject: a"), 10, "Subject: b");
  expect_all(verify(header, records()), DkimStatus::kFail, "signature did not verify");
}

TEST_F(DkimSignVerifyTest, KeyAndDnsProblems) {
  std::string signed_message = sign(kMessage);
  std::vector<DkimResult> none = verify(signed_message, {});
  expect_all(none, DkimStatus::kPermError, "no key record");
  Records swapped = {{"rsa._domainkey.example.org", records()[1].second},
                     {"ed._domainkey.example.org", "v=DKIM1; k=ed25519; p="}};
  std::vector<DkimResult> r = verify(signed_message, swapped);
  EXPECT_EQ(r[0].reason, "key type does not match a=");
  EXPECT_EQ(r[1].reason, "key revoked");
  Records short_key = {{"rsa._domainkey.example.org", std::string(kShortRsaRecord)}};
  EXPECT_EQ(verify(signed_message, short_key)[0].status, DkimStatus::kPolicy);
  Records testing = {{"ed._domainkey.example.org", records()[1].second + "; t=y"}};
  EXPECT_TRUE(verify(signed_message, testing)[1].testing);

  DkimMessageParts parts = split_dkim_message(signed_message);
  DkimVerifier v(parts.header_block, 1700000000);
  v.update_body(parts.body);
  v.finish_body();
  ASSERT_EQ(v.key_queries().size(), 2u);
  v.provide_key_error("RSA._domainkey.example.org.", DkimDnsError::kTemporary);
  EXPECT_FALSE(v.done());
  EXPECT_EQ(v.key_queries(), std::vector<std::string>{"ed._domainkey.example.org"});
  std::vector<DkimResult> partial = v.results();
  EXPECT_EQ(partial[0].status, DkimStatus::kTempError);
  EXPECT_EQ(partial[1].status, DkimStatus::kTempError);
  EXPECT_EQ(partial[1].reason, "key not retrieved");
}

TEST_F(DkimSignVerifyTest, ExpiryAndLimits) {
  DkimSignerOptions options;
  options.expire_after_s = 3600;
  std::string signed_message = sign(kMessage, options);
  expect_all(verify(signed_message, records(), 1700003600), DkimStatus::kPass, "");
  expect_all(verify(signed_message, records(), 1700003601), DkimStatus::kPermError,
             "signature expired");

  std::string many = signed_message;
  for (int i = 0; i < 5; ++i) {
    many = sign(many);  // 2 more signatures each time
  }
  DkimMessageParts parts = split_dkim_message(many);
  DkimVerifier v(parts.header_block, 1700000000);
  EXPECT_EQ(v.results().size(), 10u);
  EXPECT_EQ(v.ignored_signatures(), 2u);
}

TEST_F(DkimSignVerifyTest, BrokenSignatureFieldsArePermErrors) {
  std::string message =
      "DKIM-Signature: v=1; a=rsa-sha1; d=example.org; s=x; b=QUJD\r\n" + std::string(kMessage);
  std::vector<DkimResult> results = verify(message, records());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].status, DkimStatus::kPermError);
  EXPECT_EQ(results[0].authentication_results(),
            "dkim=permerror reason=\"missing required tag bh=\" header.d=example.org header.s=x "
            "header.b=QUJD");
}

TEST_F(DkimSignVerifyTest, BodyLengthLimit) {
  // A signature with l= covering part of the body, built by hand from the signer's pieces.
  std::string message = std::string(kMessage) + "tail\r\n";
  DkimMessageParts parts = split_dkim_message(message);
  DkimBodyHasher body(DkimCanon::kRelaxed, 5);
  body.update(parts.body);
  Sha256::Digest bh = body.finish();
  std::string field =
      "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=ed; l=5; h=from; "
      "bh=" +
      base64_encode(std::string_view(reinterpret_cast<const char*>(bh.data()), bh.size())) + "; b=";
  Result<std::vector<DkimHeaderField>> fields = split_dkim_header_fields(parts.header_block);
  ASSERT_TRUE(fields.ok());
  Sha256 hash;
  dkim_hash_headers(hash, *fields, {"from"}, DkimCanon::kRelaxed, field);
  std::string sig = base64_encode(ed_->sign(hash.finish()).value());
  std::string signed_message = field + sig + "\r\n" + message;
  std::vector<DkimResult> r = verify(signed_message + "appended text\r\n", records());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, DkimStatus::kPass) << r[0].reason;
  std::string truncated = signed_message.substr(0, signed_message.find("Hello") + 2);
  r = verify(truncated, records());
  EXPECT_EQ(r[0].status, DkimStatus::kPermError);
  EXPECT_EQ(r[0].reason, "l= is longer than the body");
}

}  // namespace
}  // namespace rm
