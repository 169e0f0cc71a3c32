#include "proto/spf/evaluator.h"

#include <gtest/gtest.h>

#include <map>

#include "proto/spf/received_spf.h"

namespace rm::spf {
namespace {

IpAddress ip(const char* text) {
  return *parse_ip(text);
}

// A zone in memory: (type, name) -> answer; unknown names are NXDOMAIN.
class FakeDns {
 public:
  void txt(const std::string& name, std::vector<std::string> strings) {
    Answer& a = zone_[{QueryType::kTxt, name}];
    a.status = AnswerStatus::kRecords;
    a.txt.push_back(std::move(strings));
    exists_[name] = true;
  }
  void addr(const std::string& name, const char* address) {
    const IpAddress x = ip(address);
    Answer& a = zone_[{x.v6 ? QueryType::kAaaa : QueryType::kA, name}];
    a.status = AnswerStatus::kRecords;
    a.addresses.push_back(x);
    exists_[name] = true;
  }
  void names(QueryType type, const std::string& name, std::vector<std::string> targets) {
    Answer& a = zone_[{type, name}];
    a.status = AnswerStatus::kRecords;
    a.names = std::move(targets);
    exists_[name] = true;
  }
  void temporary(const std::string& name) { temporary_[name] = true; }

  Answer ask(const Query& q) {
    ++queries;
    if (temporary_.count(q.name)) {
      return Answer{AnswerStatus::kTemporary, {}, {}, {}};
    }
    const auto it = zone_.find({q.type, q.name});
    if (it != zone_.end()) {
      return it->second;
    }
    return Answer{
        exists_.count(q.name) ? AnswerStatus::kNoData : AnswerStatus::kNxDomain, {}, {}, {}};
  }

  Outcome check(const char* client, const char* mail_from, const char* helo = "mx.example.org") {
    Evaluator ev(ip(client), mail_from, helo, "mx.example.net", 1700000000);
    Step step = ev.step();
    for (int i = 0; !step.done() && i < 1000; ++i) {
      ev.answer(*step.query, ask(*step.query));
      step = ev.step();
    }
    EXPECT_TRUE(step.done());
    return step.outcome;
  }

  int queries = 0;

 private:
  std::map<std::pair<QueryType, std::string>, Answer> zone_;
  std::map<std::string, bool> exists_;
  std::map<std::string, bool> temporary_;
};

TEST(SpfEvaluator, Ip4PassAndFail) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 ip4:192.0.2.0/24 -all"});
  Outcome o = dns.check("192.0.2.7", "a@example.org");
  EXPECT_EQ(o.result, ResultCode::kPass);
  EXPECT_EQ(o.mechanism, "ip4:192.0.2.0/24");
  EXPECT_EQ(o.identity, "mailfrom");
  EXPECT_EQ(dns.check("198.51.100.1", "a@example.org").result, ResultCode::kFail);
}

TEST(SpfEvaluator, TxtStringsAreConcatenated) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 ip4:", "192.0.2.5 -all"});
  dns.txt("example.org", {"some other record"});
  EXPECT_EQ(dns.check("192.0.2.5", "a@example.org").result, ResultCode::kPass);
}

TEST(SpfEvaluator, NoneAndMultipleRecords) {
  FakeDns dns;
  EXPECT_EQ(dns.check("192.0.2.5", "a@nowhere.example").result, ResultCode::kNone);
  dns.txt("two.example", {"v=spf1 -all"});
  dns.txt("two.example", {"V=SPF1 +all"});
  EXPECT_EQ(dns.check("192.0.2.5", "a@two.example").result, ResultCode::kPermError);
  const int before = dns.queries;
  EXPECT_EQ(dns.check("192.0.2.5", "a@[192.0.2.5]").result, ResultCode::kNone);
  EXPECT_EQ(dns.check("192.0.2.5", "a@192.0.2.5").result, ResultCode::kNone);
  EXPECT_EQ(dns.queries, before);  // not even asked
  EXPECT_EQ(dns.check("192.0.2.5", "", "singlelabel").result, ResultCode::kNone);
}

TEST(SpfEvaluator, HeloIdentityWhenMailFromIsEmpty) {
  FakeDns dns;
  dns.txt("mx.example.org", {"v=spf1 exists:%{l}.%{d} -all"});
  dns.addr("postmaster.mx.example.org", "127.0.0.2");
  Outcome o = dns.check("192.0.2.5", "", "mx.example.org");
  EXPECT_EQ(o.result, ResultCode::kPass);
  EXPECT_EQ(o.identity, "helo");
}

TEST(SpfEvaluator, AAndMxWithCidr) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 a/24 mx:mail.example.org -all"});
  dns.addr("example.org", "192.0.2.1");
  dns.names(QueryType::kMx, "mail.example.org", {"mx1.example.org", "mx2.example.org"});
  dns.addr("mx2.example.org", "198.51.100.9");
  EXPECT_EQ(dns.check("192.0.2.200", "a@example.org").mechanism, "a/24");
  Outcome o = dns.check("198.51.100.9", "a@example.org");
  EXPECT_EQ(o.result, ResultCode::kPass);
  EXPECT_EQ(o.mechanism, "mx:mail.example.org");
  EXPECT_EQ(dns.check("198.51.100.10", "a@example.org").result, ResultCode::kFail);
}

TEST(SpfEvaluator, Ip6AndMappedIp4) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 ip6:2001:db8::/32 ip4:192.0.2.1 -all"});
  EXPECT_EQ(dns.check("2001:db8::5", "a@example.org").result, ResultCode::kPass);
  EXPECT_EQ(dns.check("::ffff:192.0.2.1", "a@example.org").result, ResultCode::kPass);
  EXPECT_EQ(dns.check("2001:db9::5", "a@example.org").result, ResultCode::kFail);
}

TEST(SpfEvaluator, IncludeAndRedirect) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 include:inc.example.org -all"});
  dns.txt("inc.example.org", {"v=spf1 ip4:192.0.2.1 -all"});
  dns.txt("r.example.org", {"v=spf1 redirect=example.org"});
  dns.txt("bad.example.org", {"v=spf1 include:none.example.org"});
  dns.txt("badr.example.org", {"v=spf1 redirect=none.example.org"});
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").mechanism, "include:inc.example.org");
  EXPECT_EQ(dns.check("192.0.2.2", "a@example.org").result, ResultCode::kFail);
  EXPECT_EQ(dns.check("192.0.2.1", "a@r.example.org").result, ResultCode::kPass);
  Outcome bad = dns.check("192.0.2.1", "a@bad.example.org");
  EXPECT_EQ(bad.result, ResultCode::kPermError);
  EXPECT_EQ(bad.problem, "included domain none.example.org has no SPF record");
  EXPECT_EQ(dns.check("192.0.2.1", "a@badr.example.org").result, ResultCode::kPermError);
}

TEST(SpfEvaluator, IncludeLoopHitsTheLimit) {
  FakeDns dns;
  dns.txt("loop.example.org", {"v=spf1 include:loop.example.org -all"});
  Outcome o = dns.check("192.0.2.1", "a@loop.example.org");
  EXPECT_EQ(o.result, ResultCode::kPermError);
  EXPECT_NE(o.problem.find("DNS-querying"), std::string::npos);
}

TEST(SpfEvaluator, ElevenDnsTermsArePermError) {
  FakeDns dns;
  std::string record = "v=spf1";
  for (int i = 0; i < 11; ++i) {
    const std::string name = "h" + std::to_string(i) + ".example.org";
    record += " a:" + name;
    dns.addr(name, "198.51.100.1");
  }
  dns.txt("example.org", {record + " -all"});
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kPermError);
}

TEST(SpfEvaluator, ThreeVoidLookupsArePermError) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 a:v1.example.org a:v2.example.org ?all"});
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kNeutral);
  dns.txt("three.example.org",
          {"v=spf1 a:v1.example.org a:v2.example.org exists:v3.example.org ?all"});
  EXPECT_EQ(dns.check("192.0.2.1", "a@three.example.org").result, ResultCode::kPermError);
}

TEST(SpfEvaluator, MoreThanTenMxIsPermError) {
  FakeDns dns;
  std::vector<std::string> hosts;
  for (int i = 0; i < 11; ++i) {
    hosts.push_back("mx" + std::to_string(i) + ".example.org");
  }
  dns.names(QueryType::kMx, "example.org", hosts);
  dns.txt("example.org", {"v=spf1 mx -all"});
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kPermError);
}

TEST(SpfEvaluator, PtrIsValidated) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 ptr -all"});
  dns.names(QueryType::kPtr, "1.2.0.192.in-addr.arpa", {"evil.example.org", "mail.example.org"});
  dns.addr("mail.example.org", "192.0.2.1");
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kPass);
  dns.names(QueryType::kPtr, "2.2.0.192.in-addr.arpa", {"unvalidated.example.org"});
  EXPECT_EQ(dns.check("192.0.2.2", "a@example.org").result, ResultCode::kFail);
}

TEST(SpfEvaluator, TemporaryErrors) {
  FakeDns dns;
  dns.temporary("example.org");
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kTempError);
  dns.txt("x.example.org", {"v=spf1 a:down.example.org -all"});
  dns.temporary("down.example.org");
  EXPECT_EQ(dns.check("192.0.2.1", "a@x.example.org").result, ResultCode::kTempError);
}

TEST(SpfEvaluator, ExplanationAndReceivedSpf) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 -all exp=why.example.org"});
  dns.txt("why.example.org", {"%{i} is not one of %{d}'s servers; ", "ask %{l}"});
  Outcome o = dns.check("192.0.2.1", "bob@example.org");
  EXPECT_EQ(o.result, ResultCode::kFail);
  EXPECT_EQ(o.explanation, "192.0.2.1 is not one of example.org's servers; ask bob");
  const std::string header =
      received_spf(o, ip("192.0.2.1"), "bob@example.org", "mx.example.org", "mx.example.net");
  EXPECT_EQ(header,
            "fail (mx.example.net: domain of bob@example.org does not designate 192.0.2.1 as "
            "permitted sender) client-ip=192.0.2.1; envelope-from=\"bob@example.org\"; "
            "helo=mx.example.org; receiver=mx.example.net; identity=mailfrom; mechanism=-all");
}

TEST(SpfEvaluator, PMacroUsesTheValidatedName) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 exists:%{p}.ok.example.org -all"});
  dns.names(QueryType::kPtr, "1.2.0.192.in-addr.arpa", {"host.example.org"});
  dns.addr("host.example.org", "192.0.2.1");
  dns.addr("host.example.org.ok.example.org", "127.0.0.2");
  dns.addr("unknown.ok.example.org", "127.0.0.2");
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kPass);
  EXPECT_EQ(dns.check("192.0.2.9", "a@example.org").result, ResultCode::kPass);  // "unknown"
}

TEST(SpfEvaluator, RepeatedNamesAreAskedOnce) {
  FakeDns dns;
  dns.txt("example.org", {"v=spf1 a a a -all"});
  dns.addr("example.org", "198.51.100.1");
  EXPECT_EQ(dns.check("192.0.2.1", "a@example.org").result, ResultCode::kFail);
  EXPECT_EQ(dns.queries, 2);
}

}  // namespace
}  // namespace rm::spf
