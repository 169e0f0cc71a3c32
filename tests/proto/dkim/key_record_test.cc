#include "proto/dkim/key_record.h"

#include <gtest/gtest.h>

namespace rm {
namespace {

TEST(DkimKeyRecordTest, ParsesRsaAndEd25519Records) {
  Result<DkimKeyRecord> ed =
      parse_dkim_key_record("v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
  ASSERT_TRUE(ed.ok()) << ed.status().to_string();
  EXPECT_EQ(ed->type, KeyType::kEd25519);
  EXPECT_EQ(ed->public_key.size(), 32u);
  EXPECT_FALSE(ed->revoked());
  EXPECT_TRUE(ed->allows_sha256);
  EXPECT_TRUE(ed->for_email);
  Result<DkimKeyRecord> rsa = parse_dkim_key_record(
      "p=MFwwDQYJ KoZIhvcNAQEBBQADSwAwSAJBALWxp+dRcRjqfYGZCJ/dMKqE8EoShY5yqWtf1QdX"
      "UecMHO3P2KntSBrXgpmtgd3qDFyjVbcxJyE2s7ryf40PzAsCAwEAAQ==");
  ASSERT_TRUE(rsa.ok()) << rsa.status().to_string();
  EXPECT_EQ(rsa->type, KeyType::kRsa);
}

TEST(DkimKeyRecordTest, FlagsAndRestrictions) {
  Result<DkimKeyRecord> r =
      parse_dkim_key_record("v=DKIM1; h=sha1; t=y:s; s=tlsrpt; p=YWJj; x=unknown");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(r->allows_sha256);
  EXPECT_TRUE(r->testing);
  EXPECT_TRUE(r->strict_identity);
  EXPECT_FALSE(r->for_email);
  Result<DkimKeyRecord> both = parse_dkim_key_record("h=sha1:sha256; s=email:tlsrpt; p=YWJj");
  ASSERT_TRUE(both.ok());
  EXPECT_TRUE(both->allows_sha256);
  EXPECT_TRUE(both->for_email);
  Result<DkimKeyRecord> revoked = parse_dkim_key_record("v=DKIM1; p=");
  ASSERT_TRUE(revoked.ok());
  EXPECT_TRUE(revoked->revoked());
}

TEST(DkimKeyRecordTest, Errors) {
  EXPECT_EQ(parse_dkim_key_record("k=rsa; v=DKIM1; p=YWJj").status().message(),
            "key record v= is not DKIM1 or not first");
  EXPECT_EQ(parse_dkim_key_record("v=DKIM2; p=YWJj").status().message(),
            "key record v= is not DKIM1 or not first");
  EXPECT_EQ(parse_dkim_key_record("k=dsa; p=YWJj").status().message(), "unknown key type k=dsa");
  EXPECT_EQ(parse_dkim_key_record("k=rsa").status().message(), "key record without p=");
  EXPECT_EQ(parse_dkim_key_record("p=!!!!").status().message(), "bad base64 in key record p=");
  EXPECT_FALSE(parse_dkim_key_record("p=" + std::string(8000, 'A')).ok());
}

TEST(DkimKeyRecordTest, FormatsWhatItParses) {
  std::string record = format_dkim_key_record(KeyType::kEd25519, std::string(32, '\x01'));
  EXPECT_EQ(record.substr(0, 21), "v=DKIM1; k=ed25519; p");
  Result<DkimKeyRecord> r = parse_dkim_key_record(record);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->public_key, std::string(32, '\x01'));
}

}  // namespace
}  // namespace rm
