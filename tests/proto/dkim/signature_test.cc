#include "proto/dkim/signature.h"

#include <gtest/gtest.h>

namespace rm {
namespace {

constexpr std::string_view kRfc8463Value =
    " v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==";

std::string with(std::string_view extra) {
  return "v=1; a=rsa-sha256; d=example.com; s=sel; h=from:to; "
         "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=; "
         "b=AAAA; " +
         std::string(extra);
}

std::string error_of(std::string_view value) {
  Result<DkimSignature> sig = parse_dkim_signature(value);
  return sig.ok() ? "ok" : std::string(sig.status().message());
}

TEST(DkimSignatureTest, ParsesTheRfc8463Example) {
  Result<DkimSignature> sig = parse_dkim_signature(kRfc8463Value);
  ASSERT_TRUE(sig.ok()) << sig.status().to_string();
  EXPECT_EQ(sig->algorithm, DkimAlgorithm::kEd25519Sha256);
  EXPECT_EQ(sig->header_canon, DkimCanon::kRelaxed);
  EXPECT_EQ(sig->body_canon, DkimCanon::kRelaxed);
  EXPECT_EQ(sig->domain, "football.example.com");
  EXPECT_EQ(sig->selector, "brisbane");
  EXPECT_EQ(sig->identity, "@football.example.com");
  EXPECT_EQ(sig->timestamp, 1528637909u);
  EXPECT_FALSE(sig->expiration.has_value());
  EXPECT_EQ(sig->signed_headers,
            (std::vector<std::string>{"from", "to", "subject", "date", "message-id", "from",
                                      "subject", "date"}));
  EXPECT_EQ(sig->signature.size(), 64u);
  EXPECT_EQ(sig->body_hash.size(), 32u);
  EXPECT_EQ(sig->signature_b64.substr(0, 8), "/gCrinpc");
  EXPECT_EQ(sig->key_query_name(), "brisbane._domainkey.football.example.com");
}

TEST(DkimSignatureTest, DefaultsAndOptionalTags) {
  Result<DkimSignature> sig =
      parse_dkim_signature(with("c=relaxed; l=10; t=5; x=6; i=user@Sub.Example.com"));
  ASSERT_TRUE(sig.ok()) << sig.status().to_string();
  EXPECT_EQ(sig->header_canon, DkimCanon::kRelaxed);
  EXPECT_EQ(sig->body_canon, DkimCanon::kSimple);
  EXPECT_EQ(sig->body_length, 10u);
  EXPECT_EQ(sig->expiration, 6u);
  Result<DkimSignature> plain = parse_dkim_signature(with(""));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->header_canon, DkimCanon::kSimple);
  EXPECT_EQ(plain->identity, "@example.com");
}

TEST(DkimSignatureTest, PermErrorReasons) {
  EXPECT_EQ(error_of("v=1; a=rsa-sha256; d=example.com; s=sel; h=from; b=AAAA"),
            "missing required tag bh=");
  EXPECT_EQ(error_of(with("").replace(0, 3, "v=2")), "unsupported version v=2");
  EXPECT_EQ(error_of(with("").replace(5, 12, "a=rsa-sha1; ")), "unsupported algorithm a=rsa-sha1");
  EXPECT_EQ(error_of(with("i=@other.com")), "i= domain is not d= or a subdomain of it");
  EXPECT_EQ(error_of(with("i=@badexample.com")), "i= domain is not d= or a subdomain of it");
  EXPECT_EQ(error_of(with("t=10; x=9")), "x= is before t=");
  EXPECT_EQ(error_of(with("c=fancy/simple")), "unknown canonicalization c=fancy/simple");
  EXPECT_EQ(error_of(with("q=http")), "no supported query method in q=");
  EXPECT_EQ(error_of(with("l=-1")), "bad number in l=");
  EXPECT_EQ(error_of(with("t=1234567890123")), "bad number in t=");
  std::string no_from = with("");
  no_from.replace(no_from.find("h=from:to"), 9, "h=to:cc  ");
  EXPECT_EQ(error_of(no_from), "h= does not include From");
  std::string bad_b64 = with("");
  bad_b64.replace(bad_b64.find("b=AAAA"), 6, "b=A*AA");
  EXPECT_EQ(error_of(bad_b64), "bad base64 in b=");
}

TEST(DkimSignatureTest, NumbersAreStrict) {
  EXPECT_EQ(dkim_parse_number("0", 12), 0u);
  EXPECT_EQ(dkim_parse_number("999999999999", 12), 999999999999u);
  EXPECT_FALSE(dkim_parse_number("", 12));
  EXPECT_FALSE(dkim_parse_number("+1", 12));
  EXPECT_FALSE(dkim_parse_number("1 2", 12));
}

}  // namespace
}  // namespace rm
