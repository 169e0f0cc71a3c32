// DMARC policy evaluation (RFC 7489 §6.6, np= from RFC 9091) as a sans-I/O state machine:
// the evaluator says which DNS names to look up, the caller does the lookups and hands the
// answers back, and the evaluator ends with an Outcome (verdict, disposition, the text for
// Authentication-Results).
//
//   Evaluator ev(psl, {.from_domain = "news.example.com",
//                      .spf = {true, "bounces.example.com"},
//                      .dkim = {{false, "example.com"}},
//                      .sample = rng() % 100});
//   while (std::optional<Query> q = ev.step()) {
//     ev.provide(resolve(*q));   // TXT records of q->name, or whether q->name exists
//   }
//   const Outcome& o = ev.outcome();
//   o.authentication_results();   // "dmarc=pass (p=reject dis=none) header.from=news.example.com"
//
// Policy discovery (§6.6.3): TXT at _dmarc.<From domain>; when that holds no DMARC record, TXT
// at _dmarc.<Organizational Domain> (when different). Texts that do not start with v=DMARC1
// are discarded; more than one DMARC record, or a record without a valid p= (and no valid
// rua= to fall back to p=none), is permerror; a transient DNS failure is temperror; no record
// is none (a _dmarc name longer than DNS allows is not asked: it holds nothing). When the
// record came from the Organizational Domain and the From domain is below it, sp= applies, or
// np= when the From domain does not exist (one more query, kExists, asked only when the
// message fails and the record has np=).
// The verdict is pass when SPF passed for an aligned domain or a DKIM signature passed with an
// aligned d=. On fail the policy applies to the messages sampled by pct= (sample < pct); the
// others get the next lower policy (reject -> quarantine -> none).
//
// The caller chooses the SPF domain (the MAIL FROM domain, or the HELO domain for a null
// sender, §4.1) and concatenates the strings of each TXT record.
// Untrusted input: the DNS answers and the domains. At most kTxtRecordsMax TXT records of an
// answer are looked at. Thread-safety: one evaluator per message; the list is only read and
// must outlive the evaluator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/dmarc/from_domain.h"
#include "proto/dmarc/public_suffix_list.h"
#include "proto/dmarc/record.h"
#include "proto/mail_auth/authentication_results.h"

namespace rm::dmarc {

inline constexpr size_t kTxtRecordsMax = 32;

enum class Verdict : uint8_t { kNone, kPass, kFail, kTempError, kPermError };
std::string_view verdict_name(Verdict v);  // the RFC 8601 result: "none", "pass", ...

struct AuthenticatedDomain {
  bool pass = false;   // the mechanism's result was "pass"
  std::string domain;  // SPF: the domain checked; DKIM: the signature's d=
};

struct EvaluationInput {
  std::string from_domain;  // the RFC5322.From domain (from_domain.h)
  AuthenticatedDomain spf;
  std::vector<AuthenticatedDomain> dkim;  // one per signature
  uint32_t sample = 0;  // uniformly random in [0, 100); larger values are taken modulo 100
};

enum class QueryType : uint8_t {
  kTxt,     // the TXT records at `name`
  kExists,  // whether `name` exists: found when it has an A, AAAA or MX record
};

struct Query {
  QueryType type = QueryType::kTxt;
  std::string name;
};

enum class LookupStatus : uint8_t {
  kFound,      // records found (kTxt: in `txt`); kExists: the name exists
  kNotFound,   // NXDOMAIN or no records of the type
  kTempError,  // timeout, SERVFAIL: try again later
};

struct LookupAnswer {
  LookupStatus status = LookupStatus::kNotFound;
  std::vector<std::string> txt;  // kTxt and kFound: one string per record, its parts joined
};

struct Outcome {
  Verdict verdict = Verdict::kNone;
  std::string from_domain;            // normalised; empty when the From could not be read
  std::string organizational_domain;  // of the From domain
  std::string policy_domain;          // where the record was found; empty without one
  // The record used; when its p= (or sp=) was invalid but it had a rua=, a p=none record
  // with the same report addresses (§6.6.3 step 6).
  std::optional<Record> record;
  bool spf_aligned = false;         // SPF passed for an aligned domain
  bool dkim_aligned = false;        // some DKIM signature passed with an aligned d=
  std::string dkim_aligned_domain;  // the first such d=
  // p=, sp= or np=, whichever applies to this message (np= is only looked into on fail).
  Policy policy = Policy::kNone;
  Policy disposition = Policy::kNone;  // what to do with the message (none unless kFail)
  bool sampled_out = false;  // pct= left this message out: disposition is one step below policy
  std::string reason;        // why, for none, temperror and permerror

  // For build_authentication_results(): method "dmarc", the verdict, a comment
  // "p=.. [sp=..] dis=.." when a record was used (else the reason), header.from.
  mail_auth::MethodResult method_result() const;
  // format_method_result(method_result()).
  std::string authentication_results() const;
};

// What a message without one clear author gets (from_domain.h explains the choice):
// permerror, disposition reject, the error as the reason.
Outcome outcome_for_from_error(FromError error);

class Evaluator {
 public:
  Evaluator(const PublicSuffixList& psl, EvaluationInput input);

  // The lookup to do next, or nullopt when the outcome is ready.
  std::optional<Query> step() const;
  // The answer to the query step() returned. REQUIRES: step() returned a query.
  void provide(const LookupAnswer& answer);

  bool done() const { return state_ == State::kDone; }
  // REQUIRES: done().
  const Outcome& outcome() const;

 private:
  enum class State : uint8_t { kQueryFrom, kQueryOrg, kQueryExists, kDone };

  void skip_unqueryable();
  void on_txt(const LookupAnswer& answer, std::string_view domain);
  void use_record(Record record, std::string_view domain);
  void apply_policy(bool from_exists);
  void finish(Verdict verdict, std::string reason);

  const PublicSuffixList& psl_;
  EvaluationInput input_;
  State state_ = State::kQueryFrom;
  Outcome outcome_;
};

}  // namespace rm::dmarc
