#include "proto/spf/evaluator.h"

#include <arpa/inet.h>

#include <algorithm>

#include "core/base/assert.h"
#include "core/net/dns_name.h"
#include "proto/spf/macro.h"

namespace rm::spf {
namespace {

// include and redirect nest at most once per counted term; this is a backstop.
constexpr unsigned kDepthMax = 32;

enum class Match : uint8_t { kPending, kMatch, kNoMatch, kTempError, kPermError };

// An evaluation's result so far: nullopt while an answer is missing.
using Eval = std::optional<ResultCode>;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

// Lower case, no trailing dot, at most 253 bytes (labels dropped from the left, §7.3).
std::string normalize_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  while (name.size() > kDnsNameBytesMax) {
    const size_t dot = name.find('.');
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  return lower(name);
}

// A name that a DNS query can carry: labels of 1..63 printable ASCII bytes (a macro can
// put spaces in), 253 in all.
bool queryable(std::string_view name) { return dns_name_shape_ok(name, is_query_name_byte); }

// A top-level label as RFC 7208's ABNF has it: letters, digits and inner hyphens, not all
// digits. It keeps address literals ("[192.0.2.1]") and bare IP addresses out.
bool valid_top_label(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') {
    return false;
  }
  bool letter_or_hyphen = false;
  for (char c : label) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && c != '-' && !(c >= '0' && c <= '9')) {
      return false;
    }
    letter_or_hyphen = letter_or_hyphen || letter || c == '-';
  }
  return letter_or_hyphen;
}

// §4.3: check_host() answers "none" for a malformed or single-label domain.
bool valid_check_domain(std::string_view domain) {
  const size_t dot = domain.rfind('.');
  return queryable(domain) && dot != std::string_view::npos &&
         valid_top_label(domain.substr(dot + 1));
}

IpAddress unmap(const IpAddress& ip) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!ip.v6 || !std::equal(kMapped, kMapped + 12, ip.bytes.begin())) {
    return ip;
  }
  IpAddress v4;
  std::copy(ip.bytes.begin() + 12, ip.bytes.end(), v4.bytes.begin());
  return v4;
}

bool in_network(const IpAddress& ip, const IpAddress& network, unsigned bits) {
  if (ip.v6 != network.v6) {
    return false;
  }
  for (size_t i = 0; bits > 0; ++i, bits = bits >= 8 ? bits - 8 : 0) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (network.bytes[i] & mask)) {
      return false;
    }
  }
  return true;
}

ResultCode qualifier_result(Qualifier q) {
  switch (q) {
    case Qualifier::kPass:
      return ResultCode::kPass;
    case Qualifier::kFail:
      return ResultCode::kFail;
    case Qualifier::kSoftFail:
      return ResultCode::kSoftFail;
    case Qualifier::kNeutral:
      return ResultCode::kNeutral;
  }
  return ResultCode::kNeutral;
}

std::string concat(const std::vector<std::string>& strings) {
  std::string out;
  for (const std::string& s : strings) {
    out += s;
  }
  return out;
}

}  // namespace

// One replay of the evaluation over the answers known so far.
struct Evaluator::Run {
  const Evaluator& ev;
  unsigned dns_terms = 0;
  unsigned void_lookups = 0;
  unsigned lookups = 0;
  unsigned include_depth = 0;
  std::optional<Query> pending;
  Outcome out;

  // The answer, or null when it must be asked for (then `pending` says what).
  const Answer* lookup(QueryType type, std::string_view name) {
    Query q{normalize_name(name), type};
    ++lookups;
    if (const Answer* a = ev.find(q)) {
      return a;
    }
    if (!pending) {
      pending = std::move(q);
    }
    return nullptr;
  }

  Eval fail(ResultCode code, std::string problem) {
    if (out.problem.empty()) {
      out.problem = std::move(problem);
    }
    return code;
  }

  MacroContext context(std::string_view domain) const {
    MacroContext c;
    c.sender = ev.sender_;
    c.local_part = ev.local_part_;
    c.sender_domain = ev.domain_;
    c.domain = domain;
    c.ip = ev.ip_;
    c.helo = ev.helo_;
    c.receiver = ev.receiver_;
    c.now_unix_s = ev.now_unix_s_;
    return c;
  }

  // §5.5 validation for %{p}: a PTR name whose A/AAAA records include the client; the
  // current domain (or a subdomain) is preferred. nullopt while answers are missing.
  std::optional<std::string> validated_name(std::string_view domain) {
    const Answer* ptr = lookup(QueryType::kPtr, reverse_name(ev.ip_));
    if (ptr == nullptr) {
      return std::nullopt;
    }
    std::string best = "unknown";
    int best_rank = 0;
    const size_t n = std::min<size_t>(ptr->names.size(), ev.limits_.ptr_names_max);
    for (size_t i = 0; i < n && ptr->status == AnswerStatus::kRecords; ++i) {
      const std::string name = normalize_name(ptr->names[i]);
      const Match m = host_has_ip(name, 32, 128);
      if (m == Match::kPending) {
        return std::nullopt;
      }
      const std::string d = normalize_name(domain);
      const int rank = m != Match::kMatch                                  ? 0
                       : name == d                                         ? 3
                       : name.size() > d.size() && name.ends_with("." + d) ? 2
                                                                           : 1;
      if (rank > best_rank) {
        best = name;
        best_rank = rank;
      }
    }
    return best;
  }

  // Expands a domain-spec into a name to look up; nullopt while %{p} needs answers.
  std::optional<Result<std::string>> target(std::string_view spec, std::string_view domain) {
    MacroContext c = context(domain);
    std::string validated;
    if (uses_macro(spec, 'p')) {
      std::optional<std::string> name = validated_name(domain);
      if (!name) {
        return std::nullopt;
      }
      validated = std::move(*name);
      c.validated_name = validated;
    }
    Result<std::string> expanded = expand_macro_string(spec, c, MacroMode::kDomainSpec);
    if (!expanded.ok()) {
      return Result<std::string>(expanded.status());
    }
    return Result<std::string>(normalize_name(*expanded));
  }

  // Whether `name` has an A (IPv4 client) or AAAA record in the client's network of
  // `bits4` or `bits6` bits.
  Match host_has_ip(const std::string& name, unsigned bits4, unsigned bits6,
                    bool count_void = false) {
    if (!queryable(name)) {
      return Match::kNoMatch;
    }
    const Answer* a = lookup(ev.ip_.v6 ? QueryType::kAaaa : QueryType::kA, name);
    if (a == nullptr) {
      return Match::kPending;
    }
    if (a->status == AnswerStatus::kTemporary) {
      return Match::kTempError;
    }
    if (a->status != AnswerStatus::kRecords) {
      return count_void ? void_lookup() : Match::kNoMatch;
    }
    const unsigned bits = ev.ip_.v6 ? bits6 : bits4;
    for (const IpAddress& address : a->addresses) {
      if (in_network(ev.ip_, address, bits)) {
        return Match::kMatch;
      }
    }
    return Match::kNoMatch;
  }

  Match void_lookup() {
    if (++void_lookups > ev.limits_.void_lookups_max) {
      fail(ResultCode::kPermError,
           "more than " + std::to_string(ev.limits_.void_lookups_max) + " void DNS lookups");
      return Match::kPermError;
    }
    return Match::kNoMatch;
  }

  bool count_dns_term() {
    if (++dns_terms > ev.limits_.dns_terms_max) {
      fail(ResultCode::kPermError,
           "more than " + std::to_string(ev.limits_.dns_terms_max) + " DNS-querying terms");
      return false;
    }
    return true;
  }

  Match match_mx(const std::string& name, const Mechanism& m) {
    if (!queryable(name)) {
      return Match::kNoMatch;
    }
    const Answer* mx = lookup(QueryType::kMx, name);
    if (mx == nullptr) {
      return Match::kPending;
    }
    if (mx->status == AnswerStatus::kTemporary) {
      return Match::kTempError;
    }
    if (mx->status != AnswerStatus::kRecords) {
      return void_lookup();
    }
    if (mx->names.size() > ev.limits_.mx_names_max) {
      fail(ResultCode::kPermError,
           name + " has more than " + std::to_string(ev.limits_.mx_names_max) + " MX records");
      return Match::kPermError;
    }
    for (const std::string& host : mx->names) {
      const Match found = host_has_ip(normalize_name(host), m.ip4_prefix, m.ip6_prefix);
      if (found != Match::kNoMatch) {
        return found;
      }
    }
    return Match::kNoMatch;
  }

  // §5.5: a PTR name of the client, validated by its A/AAAA records, equal to or under
  // `name`. DNS errors make it a no-match.
  Match match_ptr(const std::string& name) {
    const Answer* ptr = lookup(QueryType::kPtr, reverse_name(ev.ip_));
    if (ptr == nullptr) {
      return Match::kPending;
    }
    if (ptr->status == AnswerStatus::kNxDomain || ptr->status == AnswerStatus::kNoData) {
      return void_lookup();
    }
    if (ptr->status != AnswerStatus::kRecords) {
      return Match::kNoMatch;
    }
    const size_t n = std::min<size_t>(ptr->names.size(), ev.limits_.ptr_names_max);
    for (size_t i = 0; i < n; ++i) {
      const std::string host = normalize_name(ptr->names[i]);
      if (host != name && !(host.size() > name.size() && host.ends_with("." + name))) {
        continue;
      }
      const Match found = host_has_ip(host, 32, 128);
      if (found == Match::kPending || found == Match::kMatch) {
        return found;
      }
    }
    return Match::kNoMatch;
  }

  Match match_include(const std::string& name) {
    ++include_depth;
    const Eval inner = check_host(name, false);
    --include_depth;
    if (!inner) {
      return Match::kPending;
    }
    switch (*inner) {
      case ResultCode::kPass:
        return Match::kMatch;
      case ResultCode::kFail:
      case ResultCode::kSoftFail:
      case ResultCode::kNeutral:
        return Match::kNoMatch;
      case ResultCode::kTempError:
        return Match::kTempError;
      case ResultCode::kNone:
        out.problem.clear();  // the inner "no SPF record" says less than this
        fail(ResultCode::kPermError, "included domain " + name + " has no SPF record");
        return Match::kPermError;
      case ResultCode::kPermError:
        return Match::kPermError;
    }
    return Match::kPermError;
  }

  Match match_exists(const std::string& name) {
    if (!queryable(name)) {
      return Match::kNoMatch;
    }
    const Answer* a = lookup(QueryType::kA, name);
    if (a == nullptr) {
      return Match::kPending;
    }
    if (a->status == AnswerStatus::kTemporary) {
      return Match::kTempError;
    }
    return a->status == AnswerStatus::kRecords ? Match::kMatch : void_lookup();
  }

  Match match(const Mechanism& m, const std::string& domain) {
    switch (m.kind) {
      case MechanismKind::kAll:
        return Match::kMatch;
      case MechanismKind::kIp4:
        return in_network(ev.ip_, m.network, m.ip4_prefix) ? Match::kMatch : Match::kNoMatch;
      case MechanismKind::kIp6:
        return in_network(ev.ip_, m.network, m.ip6_prefix) ? Match::kMatch : Match::kNoMatch;
      default:
        break;
    }
    if (!count_dns_term()) {
      return Match::kPermError;
    }
    std::string name = domain;
    if (!m.domain_spec.empty()) {
      std::optional<Result<std::string>> t = target(m.domain_spec, domain);
      if (!t) {
        return Match::kPending;
      }
      if (!t->ok()) {
        fail(ResultCode::kPermError, std::string(t->status().message()));
        return Match::kPermError;
      }
      name = std::move(t->value());
    }
    switch (m.kind) {
      case MechanismKind::kInclude:
        return match_include(name);
      case MechanismKind::kA:
        return host_has_ip(name, m.ip4_prefix, m.ip6_prefix, true);
      case MechanismKind::kMx:
        return match_mx(name, m);
      case MechanismKind::kPtr:
        return match_ptr(name);
      case MechanismKind::kExists:
        return match_exists(name);
      default:
        return Match::kPermError;
    }
  }

  // §6.2: the explanation; any problem just leaves it empty. False while answers are missing.
  bool explain(const std::string& exp, const std::string& domain) {
    std::optional<Result<std::string>> name = target(exp, domain);
    if (!name) {
      return false;
    }
    if (!name->ok() || !queryable(name->value())) {
      return true;
    }
    const Answer* txt = lookup(QueryType::kTxt, name->value());
    if (txt == nullptr) {
      return false;
    }
    if (txt->status != AnswerStatus::kRecords || txt->txt.size() != 1) {
      return true;
    }
    const std::string text = concat(txt->txt[0]);
    MacroContext c = context(domain);
    std::string validated;
    if (uses_macro(text, 'p')) {
      std::optional<std::string> v = validated_name(domain);
      if (!v) {
        return false;
      }
      validated = std::move(*v);
      c.validated_name = validated;
    }
    Result<std::string> expanded = expand_macro_string(text, c, MacroMode::kExplanation);
    if (expanded.ok()) {
      out.explanation = std::move(*expanded);
    }
    return true;
  }

  // The one SPF record of `domain`: kRecords with `record` set, or a result to return.
  Eval find_record(const std::string& domain, std::optional<Record>& record) {
    const Answer* txt = lookup(QueryType::kTxt, domain);
    if (txt == nullptr) {
      return std::nullopt;
    }
    if (txt->status == AnswerStatus::kTemporary) {
      return fail(ResultCode::kTempError, "DNS failure looking up TXT " + domain);
    }
    const std::string* found = nullptr;
    std::string text;
    for (const std::vector<std::string>& strings : txt->txt) {
      std::string joined = concat(strings);
      if (is_spf_record(joined)) {
        if (found != nullptr) {
          return fail(ResultCode::kPermError, domain + " has more than one SPF record");
        }
        text = std::move(joined);
        found = &text;
      }
    }
    if (found == nullptr) {
      return fail(ResultCode::kNone, domain + " has no SPF record");
    }
    Result<Record> parsed = parse_record(text);
    if (!parsed.ok()) {
      return fail(ResultCode::kPermError, std::string(parsed.status().message()));
    }
    record = std::move(*parsed);
    return ResultCode::kPass;  // means: found
  }

  Eval check_host(const std::string& domain, bool want_explanation) {
    RM_ASSERT(include_depth < kDepthMax);
    if (!valid_check_domain(domain)) {
      return fail(ResultCode::kNone, "'" + domain + "' is not a valid domain");
    }
    if (lookups > ev.limits_.queries_max) {
      return fail(ResultCode::kPermError, "too many DNS queries");
    }
    std::optional<Record> record;
    const Eval found = find_record(domain, record);
    if (!found || !record) {
      return found;
    }
    for (const Mechanism& m : record->mechanisms) {
      switch (match(m, domain)) {
        case Match::kPending:
          return std::nullopt;
        case Match::kTempError:
          return fail(ResultCode::kTempError, "DNS failure evaluating " + m.text);
        case Match::kPermError:
          return fail(ResultCode::kPermError, "error evaluating " + m.text);
        case Match::kNoMatch:
          continue;
        case Match::kMatch:
          break;
      }
      const ResultCode result = qualifier_result(m.qualifier);
      if (include_depth == 0) {
        out.mechanism = m.text;
        out.domain = domain;
      }
      if (result == ResultCode::kFail && want_explanation && record->exp &&
          !explain(*record->exp, domain)) {
        return std::nullopt;
      }
      return result;
    }
    if (record->redirect) {
      return redirect(*record->redirect, domain, want_explanation);
    }
    if (include_depth == 0) {
      out.mechanism = "default";
      out.domain = domain;
    }
    return ResultCode::kNeutral;
  }

  Eval redirect(const std::string& spec, const std::string& domain, bool want_explanation) {
    if (!count_dns_term()) {
      return ResultCode::kPermError;
    }
    std::optional<Result<std::string>> t = target(spec, domain);
    if (!t) {
      return std::nullopt;
    }
    if (!t->ok()) {
      return fail(ResultCode::kPermError, std::string(t->status().message()));
    }
    const Eval result = check_host(t->value(), want_explanation);
    if (result == ResultCode::kNone) {
      out.problem.clear();
      return fail(ResultCode::kPermError, "redirect target " + t->value() + " has no SPF record");
    }
    return result;
  }
};

Evaluator::Evaluator(const IpAddress& ip, std::string_view mail_from, std::string_view helo,
                     std::string_view receiver, int64_t now_unix_s, const Limits& limits)
    : ip_(unmap(ip)), helo_(helo), receiver_(receiver), now_unix_s_(now_unix_s), limits_(limits) {
  helo_identity_ = mail_from.empty();
  const std::string_view identity = helo_identity_ ? helo : mail_from;
  const size_t at = identity.rfind('@');
  local_part_ = at == std::string_view::npos || at == 0 ? "postmaster" : identity.substr(0, at);
  domain_ = at == std::string_view::npos ? identity : identity.substr(at + 1);
  sender_ = local_part_ + "@" + domain_;
}

const Answer* Evaluator::find(const Query& query) const {
  const auto it = answers_.find({query.type, query.name});
  return it == answers_.end() ? nullptr : &it->second;
}

void Evaluator::answer(const Query& query, Answer answer) {
  answers_[{query.type, query.name}] = std::move(answer);
}

Step Evaluator::step() {
  Run run{*this};
  run.out.identity = helo_identity_ ? "helo" : "mailfrom";
  const Eval result = run.check_host(normalize_name(domain_), true);
  Step step;
  if (!result) {
    RM_ASSERT(run.pending.has_value());
    step.query = std::move(run.pending);
    return step;
  }
  step.outcome = std::move(run.out);
  step.outcome.result = *result;
  if (step.outcome.domain.empty()) {
    step.outcome.domain = domain_;
  }
  if (*result != ResultCode::kTempError && *result != ResultCode::kPermError) {
    step.outcome.problem.clear();
  }
  return step;
}

std::string_view result_name(ResultCode result) {
  switch (result) {
    case ResultCode::kNone:
      return "none";
    case ResultCode::kNeutral:
      return "neutral";
    case ResultCode::kPass:
      return "pass";
    case ResultCode::kFail:
      return "fail";
    case ResultCode::kSoftFail:
      return "softfail";
    case ResultCode::kTempError:
      return "temperror";
    case ResultCode::kPermError:
      return "permerror";
  }
  return "none";
}

std::string_view query_type_name(QueryType type) {
  switch (type) {
    case QueryType::kTxt:
      return "TXT";
    case QueryType::kA:
      return "A";
    case QueryType::kAaaa:
      return "AAAA";
    case QueryType::kMx:
      return "MX";
    case QueryType::kPtr:
      return "PTR";
  }
  return "TXT";
}

}  // namespace rm::spf
