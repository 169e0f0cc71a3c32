#include "proto/dmarc/evaluator.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/proto/dmarc/psl_test_list.h"

namespace rm::dmarc {
namespace {

// A DNS stand-in: TXT records by name, names that exist, names that fail for now.
struct FakeDns {
  std::map<std::string, std::vector<std::string>> txt;
  std::set<std::string> existing;
  std::set<std::string> failing;
  std::vector<std::string> asked;

  LookupAnswer answer(const Query& q) {
    asked.push_back((q.type == QueryType::kTxt ? "TXT " : "EXISTS ") + q.name);
    if (failing.count(q.name)) {
      return {LookupStatus::kTempError, {}};
    }
    if (q.type == QueryType::kExists) {
      return {existing.count(q.name) ? LookupStatus::kFound : LookupStatus::kNotFound, {}};
    }
    auto it = txt.find(q.name);
    if (it == txt.end()) {
      return {LookupStatus::kNotFound, {}};
    }
    return {LookupStatus::kFound, it->second};
  }
};

class DmarcEvaluatorTest : public ::testing::Test {
 protected:
  DmarcEvaluatorTest() : psl_(std::move(PublicSuffixList::parse(testing::kTestPsl)).value()) {}

  Outcome run(EvaluationInput input) {
    Evaluator ev(psl_, std::move(input));
    for (int i = 0; i < 10; ++i) {
      std::optional<Query> q = ev.step();
      if (!q) {
        break;
      }
      ev.provide(dns_.answer(*q));
    }
    EXPECT_TRUE(ev.done());
    return ev.outcome();
  }

  static EvaluationInput input(std::string from, AuthenticatedDomain spf,
                               std::vector<AuthenticatedDomain> dkim = {}, uint32_t sample = 0) {
    return EvaluationInput{std::move(from), std::move(spf), std::move(dkim), sample};
  }

  PublicSuffixList psl_;
  FakeDns dns_;
};

TEST_F(DmarcEvaluatorTest, PassBySpfOrDkimAlignment) {
  dns_.txt["_dmarc.example.com"] = {"v=spf1 -all", "v=DMARC1; p=reject"};
  Outcome o = run(input("example.com", {true, "bounce.example.com"}));
  EXPECT_EQ(o.verdict, Verdict::kPass);
  EXPECT_TRUE(o.spf_aligned);
  EXPECT_FALSE(o.dkim_aligned);
  EXPECT_EQ(o.disposition, Policy::kNone);
  EXPECT_EQ(o.policy_domain, "example.com");
  EXPECT_EQ(o.authentication_results(), "dmarc=pass (p=reject dis=none) header.from=example.com");

  o = run(input("example.com", {false, "example.com"},
                {{false, "example.com"}, {true, "other.net"}, {true, "mail.example.com"}}));
  EXPECT_EQ(o.verdict, Verdict::kPass);
  EXPECT_FALSE(o.spf_aligned);
  EXPECT_TRUE(o.dkim_aligned);
  EXPECT_EQ(o.dkim_aligned_domain, "mail.example.com");
  EXPECT_EQ(dns_.asked,
            (std::vector<std::string>{"TXT _dmarc.example.com", "TXT _dmarc.example.com"}));
}

TEST_F(DmarcEvaluatorTest, FailWithRejectAndStrictAlignment) {
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject; adkim=s; aspf=s"};
  Outcome o = run(input("example.com", {true, "bounce.example.com"}, {{true, "mail.example.com"}}));
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.policy, Policy::kReject);
  EXPECT_EQ(o.disposition, Policy::kReject);
  EXPECT_EQ(o.authentication_results(), "dmarc=fail (p=reject dis=reject) header.from=example.com");
  // A passing signature from a foreign domain does not help.
  o = run(input("example.com", {false, ""}, {{true, "example.net"}}));
  EXPECT_EQ(o.verdict, Verdict::kFail);
}

TEST_F(DmarcEvaluatorTest, SubdomainUsesOrganizationalRecordAndSp) {
  dns_.txt["_dmarc.example.co.uk"] = {"v=DMARC1; p=reject; sp=quarantine"};
  Outcome o = run(input("news.example.co.uk", {true, "elsewhere.net"}));
  EXPECT_EQ(dns_.asked, (std::vector<std::string>{"TXT _dmarc.news.example.co.uk",
                                                  "TXT _dmarc.example.co.uk"}));
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.policy_domain, "example.co.uk");
  EXPECT_EQ(o.organizational_domain, "example.co.uk");
  EXPECT_EQ(o.policy, Policy::kQuarantine);
  EXPECT_EQ(o.disposition, Policy::kQuarantine);
  EXPECT_EQ(o.authentication_results(),
            "dmarc=fail (p=reject sp=quarantine dis=quarantine) header.from=news.example.co.uk");
  // A passing message reports the policy that would have applied.
  EXPECT_EQ(run(input("news.example.co.uk", {true, "example.co.uk"})).policy, Policy::kQuarantine);
  // Without sp= the subdomain gets p=.
  dns_.txt["_dmarc.example.co.uk"] = {"v=DMARC1; p=reject"};
  EXPECT_EQ(run(input("news.example.co.uk", {false, ""})).policy, Policy::kReject);
  // A record at the subdomain itself takes precedence, with its own p=.
  dns_.txt["_dmarc.news.example.co.uk"] = {"v=DMARC1; p=none; sp=reject"};
  o = run(input("news.example.co.uk", {false, ""}));
  EXPECT_EQ(o.policy_domain, "news.example.co.uk");
  EXPECT_EQ(o.policy, Policy::kNone);
  EXPECT_EQ(o.disposition, Policy::kNone);
}

TEST_F(DmarcEvaluatorTest, NonexistentSubdomainUsesNp) {
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=none; sp=quarantine; np=reject"};
  dns_.existing.insert("real.example.com");
  Outcome o = run(input("ghost.example.com", {false, ""}));
  EXPECT_EQ(dns_.asked.back(), "EXISTS ghost.example.com");
  EXPECT_EQ(o.policy, Policy::kReject);
  o = run(input("real.example.com", {false, ""}));
  EXPECT_EQ(o.policy, Policy::kQuarantine);
  dns_.failing.insert("flaky.example.com");  // a failed existence check is no proof of absence
  EXPECT_EQ(run(input("flaky.example.com", {false, ""})).policy, Policy::kQuarantine);
  // Passing messages need no existence check.
  dns_.asked.clear();
  EXPECT_EQ(run(input("ghost.example.com", {true, "example.com"})).verdict, Verdict::kPass);
  EXPECT_EQ(dns_.asked.size(), 2u);
}

TEST_F(DmarcEvaluatorTest, PercentSamplingLowersThePolicy) {
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject; pct=30"};
  Outcome in = run(input("example.com", {false, ""}, {}, 29));
  EXPECT_EQ(in.disposition, Policy::kReject);
  EXPECT_FALSE(in.sampled_out);
  Outcome out = run(input("example.com", {false, ""}, {}, 30));
  EXPECT_EQ(out.policy, Policy::kReject);
  EXPECT_EQ(out.disposition, Policy::kQuarantine);
  EXPECT_TRUE(out.sampled_out);
  EXPECT_EQ(out.authentication_results(),
            "dmarc=fail (p=reject dis=quarantine) header.from=example.com");
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=quarantine; pct=0"};
  EXPECT_EQ(run(input("example.com", {false, ""}, {}, 0)).disposition, Policy::kNone);
  EXPECT_EQ(run(input("example.com", {false, ""}, {}, 199)).disposition, Policy::kNone);
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=quarantine; pct=100"};
  EXPECT_EQ(run(input("example.com", {false, ""}, {}, 99)).disposition, Policy::kQuarantine);
  EXPECT_EQ(run(input("example.com", {false, ""}, {}, 199)).disposition, Policy::kQuarantine);
}

TEST_F(DmarcEvaluatorTest, NoRecordIsNone) {
  Outcome o = run(input("mail.example.org", {true, "mail.example.org"}));
  EXPECT_EQ(o.verdict, Verdict::kNone);
  EXPECT_EQ(o.disposition, Policy::kNone);
  EXPECT_EQ(o.authentication_results(),
            "dmarc=none (no DMARC record) header.from=mail.example.org");
  // The organizational domain is not asked twice.
  dns_.asked.clear();
  run(input("example.org", {false, ""}));
  EXPECT_EQ(dns_.asked, std::vector<std::string>{"TXT _dmarc.example.org"});
}

TEST_F(DmarcEvaluatorTest, ErrorsAndInvalidRecords) {
  dns_.failing.insert("_dmarc.example.com");
  Outcome o = run(input("example.com", {true, "example.com"}));
  EXPECT_EQ(o.verdict, Verdict::kTempError);
  EXPECT_EQ(o.authentication_results(),
            "dmarc=temperror (DNS failure for _dmarc.example.com) header.from=example.com");
  dns_.failing.clear();

  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=reject", "v=DMARC1; p=none"};
  EXPECT_EQ(run(input("example.com", {false, ""})).verdict, Verdict::kPermError);

  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=bogus"};
  o = run(input("example.com", {false, ""}));
  EXPECT_EQ(o.verdict, Verdict::kPermError);
  EXPECT_EQ(o.disposition, Policy::kNone);

  // §6.6.3: an invalid p= with a usable rua= acts as p=none.
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=bogus; sp=reject; rua=mailto:d@example.com"};
  o = run(input("example.com", {false, ""}));
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.policy, Policy::kNone);
  EXPECT_EQ(o.disposition, Policy::kNone);
  EXPECT_EQ(o.authentication_results(), "dmarc=fail (p=none dis=none) header.from=example.com");
  ASSERT_TRUE(o.record);
  EXPECT_FALSE(o.record->subdomain_policy);
  EXPECT_EQ(o.record->aggregate_reports.size(), 1u);

  // Texts that are not DMARC records are discarded: the organizational domain is asked next.
  dns_.txt["_dmarc.a.example.com"] = {"hello", "v=DMARC1x"};
  dns_.asked.clear();
  EXPECT_EQ(run(input("a.example.com", {false, ""})).policy_domain, "example.com");
  EXPECT_EQ(dns_.asked.size(), 2u);
}

TEST_F(DmarcEvaluatorTest, InvalidOrOverlongFromDomain) {
  Outcome o = run(input("exa mple.com", {true, "example.com"}));
  EXPECT_EQ(o.verdict, Verdict::kPermError);
  EXPECT_TRUE(dns_.asked.empty());
  // _dmarc.<name> would be longer than DNS allows: only the organizational domain is asked.
  std::string from = std::string(60, 'a') + "." + std::string(60, 'b') + "." +
                     std::string(60, 'c') + "." + std::string(60, 'd') + ".com";
  dns_.txt["_dmarc." + std::string(60, 'd') + ".com"] = {"v=DMARC1; p=reject"};
  o = run(input(from, {false, ""}));
  EXPECT_EQ(dns_.asked.size(), 1u);
  EXPECT_EQ(o.verdict, Verdict::kFail);
}

TEST_F(DmarcEvaluatorTest, FromErrorOutcome) {
  Outcome o = outcome_for_from_error(FromError::kMultipleFrom);
  EXPECT_EQ(o.verdict, Verdict::kPermError);
  EXPECT_EQ(o.disposition, Policy::kReject);
  EXPECT_EQ(o.authentication_results(), "dmarc=permerror (more than one From field)");
  EXPECT_EQ(verdict_name(Verdict::kTempError), "temperror");
}

// The whole path a server takes: the From domain from the header block, the evaluation, and
// the Authentication-Results field with the SPF and DKIM results beside DMARC's.
TEST_F(DmarcEvaluatorTest, FromHeaderBlockToAuthenticationResults) {
  const std::string headers =
      "Authentication-Results: mx.example.org; dmarc=pass header.from=example.com\r\n"
      "From: \"News\" <news@News.Example.COM>\r\n"
      "Subject: hello\r\n"
      "\r\n";
  FromDomain from = extract_from_domain(headers);
  ASSERT_TRUE(from.ok());
  dns_.txt["_dmarc.example.com"] = {"v=DMARC1; p=quarantine; sp=reject; pct=100"};
  Outcome o = run(input(from.domain, {true, "bounces.example.net"}, {{false, "example.com"}}));
  EXPECT_EQ(o.verdict, Verdict::kFail);
  EXPECT_EQ(o.disposition, Policy::kReject);
  std::vector<mail_auth::MethodResult> results = {
      {"spf", "pass", "", "", {{"smtp", "mailfrom", "x@bounces.example.net"}}},
      {"dkim", "fail", "", "bad signature", {{"header", "d", "example.com"}}},
      o.method_result(),
  };
  std::vector<mail_auth::ByteRange> forged =
      mail_auth::find_authentication_results(headers, "mx.example.org");
  std::string message = mail_auth::build_authentication_results("mx.example.org", results) +
                        mail_auth::erase_ranges(headers, forged);
  EXPECT_EQ(message,
            "Authentication-Results: mx.example.org;\r\n"
            "\tspf=pass smtp.mailfrom=x@bounces.example.net;\r\n"
            "\tdkim=fail reason=\"bad signature\" header.d=example.com;\r\n"
            "\tdmarc=fail (p=quarantine sp=reject dis=reject) header.from=news.example.com\r\n"
            "From: \"News\" <news@News.Example.COM>\r\n"
            "Subject: hello\r\n"
            "\r\n");
}

}  // namespace
}  // namespace rm::dmarc
