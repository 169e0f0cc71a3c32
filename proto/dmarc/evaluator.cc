#include "proto/dmarc/evaluator.h"

#include <utility>

#include "proto/dmarc/alignment.h"
#include "proto/dmarc/domain_name.h"

namespace rm::dmarc {
namespace {

constexpr std::string_view kPrefix = "_dmarc.";

Policy one_step_lower(Policy p) {
  return p == Policy::kReject ? Policy::kQuarantine : Policy::kNone;
}

}  // namespace

std::string_view verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kNone:
      return "none";
    case Verdict::kPass:
      return "pass";
    case Verdict::kFail:
      return "fail";
    case Verdict::kTempError:
      return "temperror";
    case Verdict::kPermError:
      return "permerror";
  }
  return "none";
}

mail_auth::MethodResult Outcome::method_result() const {
  mail_auth::MethodResult m;
  m.method = "dmarc";
  m.result = verdict_name(verdict);
  if (record && (verdict == Verdict::kPass || verdict == Verdict::kFail)) {
    m.comment = "p=" + std::string(policy_name(record->policy));
    if (record->subdomain_policy) {
      m.comment += " sp=" + std::string(policy_name(*record->subdomain_policy));
    }
    m.comment += " dis=" + std::string(policy_name(disposition));
  } else {
    m.comment = reason;
  }
  if (!from_domain.empty()) {
    m.properties.push_back({"header", "from", from_domain});
  }
  return m;
}

std::string Outcome::authentication_results() const {
  return mail_auth::format_method_result(method_result());
}

Outcome outcome_for_from_error(FromError error) {
  Outcome o;
  o.verdict = Verdict::kPermError;
  o.policy = Policy::kReject;
  o.disposition = Policy::kReject;
  o.reason = std::string(from_error_name(error));
  return o;
}

Evaluator::Evaluator(const PublicSuffixList& psl, EvaluationInput input)
    : psl_(psl), input_(std::move(input)) {
  input_.sample %= 100;
  Result<std::string> from = normalize_domain(input_.from_domain);
  if (!from.ok()) {
    finish(Verdict::kPermError, "invalid From domain");
    return;
  }
  outcome_.from_domain = *from;
  Result<std::string> org = psl_.organizational_domain(*from);
  outcome_.organizational_domain = org.ok() ? *org : *from;
  skip_unqueryable();
}

void Evaluator::skip_unqueryable() {
  auto too_long = [](std::string_view domain) {
    return kPrefix.size() + domain.size() > kDomainBytesMax;
  };
  // A name longer than DNS allows cannot hold a record: answer for the caller.
  if (state_ == State::kQueryFrom && too_long(outcome_.from_domain)) {
    on_txt(LookupAnswer{}, outcome_.from_domain);
  }
  if (state_ == State::kQueryOrg && too_long(outcome_.organizational_domain)) {
    on_txt(LookupAnswer{}, outcome_.organizational_domain);
  }
}

std::optional<Query> Evaluator::step() const {
  switch (state_) {
    case State::kQueryFrom:
      return Query{QueryType::kTxt, std::string(kPrefix) + outcome_.from_domain};
    case State::kQueryOrg:
      return Query{QueryType::kTxt, std::string(kPrefix) + outcome_.organizational_domain};
    case State::kQueryExists:
      return Query{QueryType::kExists, outcome_.from_domain};
    case State::kDone:
      break;
  }
  return std::nullopt;
}

const Outcome& Evaluator::outcome() const {
  RM_ASSERT(done());
  return outcome_;
}

void Evaluator::provide(const LookupAnswer& answer) {
  switch (state_) {
    case State::kQueryFrom:
      on_txt(answer, outcome_.from_domain);
      return;
    case State::kQueryOrg:
      on_txt(answer, outcome_.organizational_domain);
      return;
    case State::kQueryExists:
      // A transient failure counts as "exists": uncertainty must not make the policy harsher.
      apply_policy(answer.status != LookupStatus::kNotFound);
      return;
    case State::kDone:
      break;
  }
  RM_ASSERT_MSG(false, "Evaluator::provide() without a pending query");
}

void Evaluator::on_txt(const LookupAnswer& answer, std::string_view domain) {
  if (answer.status == LookupStatus::kTempError) {
    finish(Verdict::kTempError, "DNS failure for " + std::string(kPrefix) + std::string(domain));
    return;
  }
  std::vector<Record> records;
  if (answer.status == LookupStatus::kFound) {
    for (size_t i = 0; i < answer.txt.size() && i < kTxtRecordsMax; ++i) {
      if (std::optional<Record> r = parse_record(answer.txt[i])) {
        records.push_back(std::move(*r));
      }
    }
  }
  if (records.size() > 1) {
    finish(Verdict::kPermError, "multiple DMARC records");
    return;
  }
  if (records.size() == 1) {
    use_record(std::move(records.front()), domain);
    return;
  }
  if (state_ == State::kQueryFrom && outcome_.organizational_domain != outcome_.from_domain) {
    state_ = State::kQueryOrg;
    skip_unqueryable();
    return;
  }
  finish(Verdict::kNone, "no DMARC record");
}

void Evaluator::use_record(Record record, std::string_view domain) {
  outcome_.policy_domain = std::string(domain);
  if (!record.policy_valid) {
    // §6.6.3 step 6: with a usable rua= act as if p=none was published; otherwise no DMARC.
    if (record.aggregate_reports.empty()) {
      finish(Verdict::kPermError, "DMARC record without a valid policy");
      return;
    }
    Record as_none;
    as_none.policy_valid = true;
    as_none.aggregate_reports = std::move(record.aggregate_reports);
    as_none.failure_reports = std::move(record.failure_reports);
    record = std::move(as_none);
  }
  outcome_.record = std::move(record);
  const Record& r = *outcome_.record;
  if (input_.spf.pass) {
    outcome_.spf_aligned = aligned(psl_, input_.spf.domain, outcome_.from_domain, r.spf_alignment);
  }
  for (const AuthenticatedDomain& sig : input_.dkim) {
    if (sig.pass && aligned(psl_, sig.domain, outcome_.from_domain, r.dkim_alignment)) {
      outcome_.dkim_aligned = true;
      outcome_.dkim_aligned_domain = sig.domain;
      break;
    }
  }
  const bool from_is_subdomain = outcome_.policy_domain != outcome_.from_domain;
  if (outcome_.spf_aligned || outcome_.dkim_aligned) {
    outcome_.policy = from_is_subdomain ? r.subdomain_policy.value_or(r.policy) : r.policy;
    finish(Verdict::kPass, {});
    return;
  }
  if (from_is_subdomain && r.nonexistent_policy) {
    state_ = State::kQueryExists;
    return;
  }
  apply_policy(true);
}

void Evaluator::apply_policy(bool from_exists) {
  const Record& r = *outcome_.record;
  Policy policy = r.policy;
  if (outcome_.policy_domain != outcome_.from_domain) {
    policy = r.subdomain_policy.value_or(r.policy);
    if (!from_exists && r.nonexistent_policy) {
      policy = *r.nonexistent_policy;
    }
  }
  outcome_.policy = policy;
  outcome_.disposition = policy;
  if (policy != Policy::kNone && input_.sample >= r.percent) {
    outcome_.disposition = one_step_lower(policy);
    outcome_.sampled_out = true;
  }
  finish(Verdict::kFail, {});
}

void Evaluator::finish(Verdict verdict, std::string reason) {
  outcome_.verdict = verdict;
  outcome_.reason = std::move(reason);
  state_ = State::kDone;
}

}  // namespace rm::dmarc
