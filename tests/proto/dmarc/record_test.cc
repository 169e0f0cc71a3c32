#include "proto/dmarc/record.h"

#include <gtest/gtest.h>

namespace rm::dmarc {
namespace {

TEST(DmarcRecordTest, FullRecord) {
  std::optional<Record> r = parse_record(
      "v=DMARC1; p=quarantine; sp=reject; np=reject; adkim=s; aspf=s; pct=25; "
      "rua=mailto:agg@example.com,mailto:agg2@example.net!10m; ruf=mailto:f@example.com!1k; "
      "fo=1:d:s; rf=afrf; ri=3600");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->policy_valid);
  EXPECT_EQ(r->policy, Policy::kQuarantine);
  EXPECT_EQ(r->subdomain_policy, Policy::kReject);
  EXPECT_EQ(r->nonexistent_policy, Policy::kReject);
  EXPECT_EQ(r->dkim_alignment, AlignmentMode::kStrict);
  EXPECT_EQ(r->spf_alignment, AlignmentMode::kStrict);
  EXPECT_EQ(r->percent, 25);
  ASSERT_EQ(r->aggregate_reports.size(), 2u);
  EXPECT_EQ(r->aggregate_reports[0].uri, "mailto:agg@example.com");
  EXPECT_EQ(r->aggregate_reports[0].size_max_bytes, 0u);
  EXPECT_EQ(r->aggregate_reports[1].uri, "mailto:agg2@example.net");
  EXPECT_EQ(r->aggregate_reports[1].size_max_bytes, 10u << 20);
  ASSERT_EQ(r->failure_reports.size(), 1u);
  EXPECT_EQ(r->failure_reports[0].size_max_bytes, 1024u);
  EXPECT_EQ(r->failure_options, kFailureAny | kFailureDkim | kFailureSpf);
  EXPECT_EQ(r->report_formats, std::vector<std::string>{"afrf"});
  EXPECT_EQ(r->report_interval_s, 3600u);
}

TEST(DmarcRecordTest, Defaults) {
  std::optional<Record> r = parse_record("v=DMARC1;p=none");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->policy_valid);
  EXPECT_EQ(r->policy, Policy::kNone);
  EXPECT_FALSE(r->subdomain_policy);
  EXPECT_FALSE(r->nonexistent_policy);
  EXPECT_EQ(r->dkim_alignment, AlignmentMode::kRelaxed);
  EXPECT_EQ(r->spf_alignment, AlignmentMode::kRelaxed);
  EXPECT_EQ(r->percent, 100);
  EXPECT_TRUE(r->aggregate_reports.empty());
  EXPECT_EQ(r->failure_options, kFailureAll);
  EXPECT_EQ(r->report_interval_s, 86400u);
}

TEST(DmarcRecordTest, VersionMustComeFirst) {
  EXPECT_FALSE(parse_record("p=reject; v=DMARC1"));
  EXPECT_FALSE(parse_record("v=DMARC2; p=reject"));
  EXPECT_FALSE(parse_record("v=dmarc1; p=reject"));  // the version value is case-sensitive
  EXPECT_FALSE(parse_record("v=spf1 -all"));
  EXPECT_FALSE(parse_record(""));
  EXPECT_TRUE(parse_record(" v = DMARC1 ; p = reject ;"));
  EXPECT_TRUE(parse_record("V=DMARC1; P=REJECT"));
  EXPECT_EQ(parse_record("V=DMARC1; P=REJECT")->policy, Policy::kReject);
  EXPECT_TRUE(parse_record("v=DMARC1"));
  EXPECT_FALSE(parse_record("v=DMARC1")->policy_valid);
}

TEST(DmarcRecordTest, InvalidPolicyIsFlagged) {
  EXPECT_FALSE(parse_record("v=DMARC1; p=bogus")->policy_valid);
  EXPECT_FALSE(parse_record("v=DMARC1; p=reject; sp=bogus")->policy_valid);
  EXPECT_FALSE(parse_record("v=DMARC1; rua=mailto:a@b.c")->policy_valid);
  std::optional<Record> r = parse_record("v=DMARC1; p=reject; np=bogus");
  EXPECT_TRUE(r->policy_valid);  // a bad np= is only ignored (RFC 9091)
  EXPECT_FALSE(r->nonexistent_policy);
}

TEST(DmarcRecordTest, BadValuesKeepDefaultsAndUnknownTagsAreIgnored) {
  std::optional<Record> r = parse_record(
      "v=DMARC1; p=reject; adkim=x; aspf=; pct=101; fo=2; rf=; ri=-5; foo=bar; garbage; "
      "rua=not a uri,mailto:ok@example.com,http//x");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->policy_valid);
  EXPECT_EQ(r->dkim_alignment, AlignmentMode::kRelaxed);
  EXPECT_EQ(r->spf_alignment, AlignmentMode::kRelaxed);
  EXPECT_EQ(r->percent, 100);
  EXPECT_EQ(r->failure_options, kFailureAll);
  EXPECT_EQ(r->report_formats, std::vector<std::string>{"afrf"});
  EXPECT_EQ(r->report_interval_s, 86400u);
  ASSERT_EQ(r->aggregate_reports.size(), 1u);
  EXPECT_EQ(r->aggregate_reports[0].uri, "mailto:ok@example.com");
  EXPECT_EQ(parse_record("v=DMARC1; p=reject; pct=0")->percent, 0);
}

TEST(DmarcRecordTest, RepeatedTagKeepsFirstValue) {
  std::optional<Record> r = parse_record("v=DMARC1; p=none; p=reject; pct=10; pct=90");
  EXPECT_EQ(r->policy, Policy::kNone);
  EXPECT_EQ(r->percent, 10);
}

TEST(DmarcRecordTest, Limits) {
  std::string many = "v=DMARC1; p=reject; rua=";
  for (int i = 0; i < 20; ++i) {
    many += "mailto:r" + std::to_string(i) + "@example.com,";
  }
  EXPECT_EQ(parse_record(many)->aggregate_reports.size(), kReportUrisMax);
  std::string huge = "v=DMARC1; p=reject; x=" + std::string(kRecordBytesMax, 'a');
  std::optional<Record> r = parse_record(huge);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->policy_valid);
  EXPECT_FALSE(parse_record("v=DMARC1; p=reject; rua=mailto:a@b!99999999999999999999m")
                   ->aggregate_reports.size());
  EXPECT_EQ(policy_name(Policy::kQuarantine), "quarantine");
}

}  // namespace
}  // namespace rm::dmarc
