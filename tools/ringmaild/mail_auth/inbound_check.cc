#include "tools/ringmaild/mail_auth/inbound_check.h"

#include <ctime>
#include <random>
#include <utility>

#include "core/base/assert.h"
#include "core/base/clock.h"
#include "core/reactor/shard.h"
#include "proto/dkim/header_canon.h"
#include "proto/mail_auth/authentication_results.h"
#include "store/account/address_resolver.h"
#include "store/account/directory.h"

namespace rm {
namespace {

using mail_auth::MethodResult;

// Where the header section ends: the offset just past its empty line (the first line break
// followed by CRLF or LF, as split_dkim_message reads it), or npos. Searching from `from`
// lets a caller resume after appending bytes.
size_t header_end(std::string_view text, size_t from) {
  if (from == 0 && (text.starts_with("\r\n") || text.starts_with("\n"))) {
    return text[0] == '\n' ? 1 : 2;  // no header fields at all
  }
  for (size_t i = text.find('\n', from); i != std::string_view::npos; i = text.find('\n', i + 1)) {
    if (i + 1 < text.size() && text[i + 1] == '\n') {
      return i + 2;
    }
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      return i + 3;
    }
  }
  return std::string_view::npos;
}

// A HELO worth an SPF check of its own: a domain name, not an address literal.
bool helo_is_domain(std::string_view helo) {
  return !helo.empty() && helo.front() != '[' && helo.find('.') != std::string_view::npos;
}

SpfCheck spf_temperror(std::string_view identity, std::string_view domain, std::string problem) {
  SpfCheck check;
  check.outcome.result = spf::ResultCode::kTempError;
  check.outcome.identity = std::string(identity);
  check.outcome.domain = std::string(domain);
  check.outcome.problem = std::move(problem);
  return check;
}

MethodResult spf_method_result(const SpfCheck& check, std::string_view mail_from,
                               std::string_view helo) {
  MethodResult m;
  m.method = "spf";
  m.result = std::string(spf::result_name(check.outcome.result));
  m.reason = check.outcome.problem;
  if (check.outcome.identity == "helo") {
    m.properties.push_back({"smtp", "helo", std::string(helo)});
  } else {
    m.properties.push_back({"smtp", "mailfrom", std::string(mail_from)});
  }
  return m;
}

MethodResult dkim_method_result(const DkimResult& r) {
  MethodResult m;
  m.method = "dkim";
  m.result = std::string(dkim_status_name(r.status));
  m.reason = r.reason;
  if (!r.domain.empty()) {
    m.properties.push_back({"header", "d", r.domain});
  }
  if (!r.identity.empty()) {
    m.properties.push_back({"header", "i", r.identity});
  }
  if (!r.selector.empty()) {
    m.properties.push_back({"header", "s", r.selector});
  }
  if (r.algorithm) {
    m.properties.push_back({"header", "a", std::string(dkim_algorithm_name(*r.algorithm))});
  }
  if (!r.header_b.empty()) {
    m.properties.push_back({"header", "b", r.header_b});
  }
  return m;
}

dmarc::Outcome dmarc_error(dmarc::Verdict verdict, std::string reason, std::string from) {
  dmarc::Outcome o;
  o.verdict = verdict;
  o.reason = std::move(reason);
  o.from_domain = std::move(from);
  return o;
}

// The domain SPF judges and DMARC aligns with: MAIL FROM's, or HELO's for the null sender
// (RFC 7208 §2.4, RFC 7489 §4.1).
std::string spf_domain(std::string_view mail_from, std::string_view helo) {
  const std::string domain = domain_of(mail_from);
  return domain.empty() ? lower_ascii(helo) : domain;
}

uint32_t random_percent() {
  thread_local std::minstd_rand rng{std::random_device{}()};
  return static_cast<uint32_t>(rng() % 100);
}

}  // namespace

std::shared_ptr<InboundCheck> InboundCheck::start(Shard& shard, Resolver* resolver,
                                                  std::shared_ptr<const InboundCheckConfig> config,
                                                  const IpAddress& ip, std::string mail_from,
                                                  std::string helo) {
  auto check = std::make_shared<InboundCheck>(shard, resolver, std::move(config), ip,
                                              std::move(mail_from), std::move(helo));
  check->start_spf();
  return check;
}

InboundCheck::InboundCheck(Shard& shard, Resolver* resolver,
                           std::shared_ptr<const InboundCheckConfig> config, const IpAddress& ip,
                           std::string mail_from, std::string helo)
    : shard_(shard),
      resolver_(resolver),
      config_(std::move(config)),
      ip_(ip),
      mail_from_(std::move(mail_from)),
      helo_(std::move(helo)),
      spf_domain_(spf_domain(mail_from_, helo_)) {}

void InboundCheck::start_spf() {
  if (!config_->spf) {
    return;
  }
  const bool helo_too = config_->spf_helo && !mail_from_.empty() && helo_is_domain(helo_);
  const std::string identity = mail_from_.empty() ? "helo" : "mailfrom";
  if (resolver_ == nullptr) {
    spf_mail_ = spf_temperror(identity, spf_domain_, "no DNS resolver");
    return;
  }
  std::weak_ptr<InboundCheck> weak = weak_from_this();
  spf_waiting_ = helo_too ? 2 : 1;
  helo_checked_ = helo_too;
  check_spf(shard_, *resolver_, ip_, mail_from_, helo_, config_->spf_options,
            [weak](SpfCheck check) {
              if (std::shared_ptr<InboundCheck> self = weak.lock()) {
                self->spf_mail_ = std::move(check);
                --self->spf_waiting_;
                self->maybe_evaluate_dmarc();
              }
            });
  if (helo_too) {
    check_spf(shard_, *resolver_, ip_, "", helo_, config_->spf_options, [weak](SpfCheck check) {
      if (std::shared_ptr<InboundCheck> self = weak.lock()) {
        self->spf_helo_ = std::move(check);
        --self->spf_waiting_;
        self->maybe_evaluate_dmarc();
      }
    });
  }
}

std::string InboundCheck::pass(std::string bytes) {
  if (!header_done_) {
    return take_header(std::move(bytes), /*at_end=*/false);
  }
  if (dkim_) {
    dkim_->update_body(bytes);
  }
  return bytes;
}

std::string InboundCheck::finish(std::string bytes) {
  std::string out = pass(std::move(bytes));
  if (!header_done_) {
    out = take_header(std::string(), /*at_end=*/true);
  }
  if (dkim_) {
    dkim_->finish_body();
  }
  return out;
}

std::string InboundCheck::take_header(std::string bytes, bool at_end) {
  const size_t resume = held_.size() >= 2 ? held_.size() - 2 : 0;
  held_ += bytes;
  size_t end = header_end(held_, resume);
  if (end == std::string::npos) {
    if (held_.size() > kHeldHeaderBytesMax) {
      header_done_ = header_too_large_ = true;
      return std::exchange(held_, std::string());
    }
    if (!at_end) {
      return {};
    }
    end = held_.size();  // all header, no body
  }
  header_done_ = true;
  const DkimMessageParts parts = split_dkim_message(std::string_view(held_).substr(0, end));
  open_header(parts.header_block);
  const std::vector<mail_auth::ByteRange> forged =
      mail_auth::find_authentication_results(parts.header_block, config_->authserv_id);
  std::string out = mail_auth::erase_ranges(parts.header_block, forged);
  out.append(held_, parts.header_block.size());
  if (dkim_ && end < held_.size()) {
    dkim_->update_body(std::string_view(held_).substr(end));
  }
  held_ = std::string();
  return out;
}

void InboundCheck::open_header(std::string_view header_block) {
  if (config_->dkim) {
    dkim_.emplace(header_block, static_cast<uint64_t>(std::time(nullptr)));
  }
  from_ = dmarc::extract_from_domain(header_block);
}

void InboundCheck::conclude(std::function<void(InboundVerdict)> done) {
  RM_ASSERT(header_done_ && !done_);
  done_ = std::move(done);
  std::weak_ptr<InboundCheck> weak = weak_from_this();
  timer_ = shard_.start_timer(monotonic_ms() + config_->time_limit_ms, [weak] {
    if (std::shared_ptr<InboundCheck> self = weak.lock()) {
      self->timer_ = 0;
      self->time_out();
    }
  });
  look_up_dkim_keys();
  maybe_evaluate_dmarc();
}

void InboundCheck::look_up_dkim_keys() {
  if (!dkim_) {
    return;
  }
  const std::vector<std::string> names = dkim_->key_queries();
  if (resolver_ == nullptr) {
    for (const std::string& name : names) {
      dkim_->provide_key_error(name, DkimDnsError::kTemporary);
    }
    return;
  }
  keys_waiting_ = names.size();
  std::weak_ptr<InboundCheck> weak = weak_from_this();
  for (const std::string& name : names) {
    resolver_->resolve(name, DnsType::kTxt, [weak, name](DnsAnswer answer) {
      std::shared_ptr<InboundCheck> self = weak.lock();
      if (!self || self->concluded_) {
        return;
      }
      if (answer.error == DnsError::kNone) {
        self->dkim_->provide_key(name, joined_txt_records(answer));
      } else {
        self->dkim_->provide_key_error(name, answer.error == DnsError::kTemporary
                                                 ? DkimDnsError::kTemporary
                                                 : DkimDnsError::kNoRecord);
      }
      --self->keys_waiting_;
      self->maybe_evaluate_dmarc();
    });
  }
}

// DMARC needs the SPF and DKIM results: it starts once both are in (and conclude() ran).
void InboundCheck::maybe_evaluate_dmarc() {
  if (!done_ || concluded_ || spf_waiting_ > 0 || keys_waiting_ > 0 || dmarc_) {
    return;
  }
  if (!config_->psl) {
    deliver();
    return;
  }
  if (header_too_large_) {
    dmarc_outcome_ = dmarc_error(dmarc::Verdict::kPermError, "header section too large", "");
    deliver();
    return;
  }
  if (!from_.ok()) {
    dmarc_outcome_ = dmarc::outcome_for_from_error(from_.error);
    deliver();
    return;
  }
  dmarc::EvaluationInput input;
  input.from_domain = from_.domain;
  const std::optional<SpfCheck>& spf = spf_mail_;
  if (spf) {
    input.spf.pass = spf->outcome.result == spf::ResultCode::kPass;
    input.spf.domain = spf_domain_;
  }
  if (dkim_) {
    for (const DkimResult& r : dkim_->results()) {
      input.dkim.push_back({r.status == DkimStatus::kPass, r.domain});
    }
  }
  input.sample = random_percent();
  dmarc_.emplace(*config_->psl, std::move(input));
  ask_dmarc();
}

void InboundCheck::ask_dmarc() {
  const std::optional<dmarc::Query> query = dmarc_->step();
  if (!query) {
    dmarc_outcome_ = dmarc_->outcome();
    deliver();
    return;
  }
  if (resolver_ == nullptr) {
    dmarc_->provide({dmarc::LookupStatus::kTempError, {}});
    ask_dmarc();
    return;
  }
  if (query->type == dmarc::QueryType::kExists) {
    ask_dmarc_exists(query->name, 0);
    return;
  }
  std::weak_ptr<InboundCheck> weak = weak_from_this();
  resolver_->resolve(query->name, DnsType::kTxt, [weak](DnsAnswer answer) {
    std::shared_ptr<InboundCheck> self = weak.lock();
    if (!self || self->concluded_) {
      return;
    }
    dmarc::LookupAnswer a;
    if (answer.error == DnsError::kNone) {
      a.status = dmarc::LookupStatus::kFound;
      a.txt = joined_txt_records(answer);
    } else {
      a.status = answer.error == DnsError::kTemporary ? dmarc::LookupStatus::kTempError
                                                      : dmarc::LookupStatus::kNotFound;
    }
    self->dmarc_->provide(a);
    self->ask_dmarc();
  });
}

// np= needs to know whether the From domain exists: an A, AAAA or MX record says it does.
void InboundCheck::ask_dmarc_exists(const std::string& name, size_t type_index) {
  static constexpr DnsType kTypes[] = {DnsType::kA, DnsType::kAaaa, DnsType::kMx};
  std::weak_ptr<InboundCheck> weak = weak_from_this();
  resolver_->resolve(name, kTypes[type_index], [weak, name, type_index](DnsAnswer answer) {
    std::shared_ptr<InboundCheck> self = weak.lock();
    if (!self || self->concluded_) {
      return;
    }
    dmarc::LookupAnswer a;
    if (answer.error == DnsError::kNone) {
      a.status = dmarc::LookupStatus::kFound;
    } else if (answer.error == DnsError::kTemporary) {
      a.status = dmarc::LookupStatus::kTempError;
    } else if (answer.error != DnsError::kNoSuchDomain && type_index + 1 < std::size(kTypes)) {
      self->ask_dmarc_exists(name, type_index + 1);
      return;
    }
    self->dmarc_->provide(a);
    self->ask_dmarc();
  });
}

void InboundCheck::time_out() {
  if (concluded_) {
    return;
  }
  const std::string identity = mail_from_.empty() ? "helo" : "mailfrom";
  if (config_->spf && !spf_mail_) {
    spf_mail_ = spf_temperror(identity, spf_domain_, "SPF check took too long");
  }
  if (helo_checked_ && !spf_helo_) {
    spf_helo_ = spf_temperror("helo", helo_, "SPF check took too long");
  }
  if (config_->psl && !dmarc_outcome_) {
    dmarc_outcome_ = dmarc_error(dmarc::Verdict::kTempError, "DNS lookups took too long",
                                 from_.ok() ? from_.domain : "");
  }
  deliver();
}

std::vector<MethodResult> InboundCheck::method_results(const std::vector<DkimResult>& dkim) const {
  std::vector<MethodResult> results;
  if (spf_helo_) {
    results.push_back(spf_method_result(*spf_helo_, mail_from_, helo_));
  }
  if (spf_mail_) {
    results.push_back(spf_method_result(*spf_mail_, mail_from_, helo_));
  }
  if (dkim_) {
    for (const DkimResult& r : dkim) {
      results.push_back(dkim_method_result(r));
    }
    if (dkim.empty()) {
      results.push_back({"dkim", "none", "", "", {}});
    }
  } else if (config_->dkim && header_too_large_) {
    results.push_back({"dkim", "permerror", "", "header section too large", {}});
  }
  if (dmarc_outcome_) {
    results.push_back(dmarc_outcome_->method_result());
  }
  return results;
}

bool InboundCheck::had_temporary_error(const std::vector<DkimResult>& dkim) const {
  if (spf_mail_ && spf_mail_->outcome.result == spf::ResultCode::kTempError) {
    return true;
  }
  for (const DkimResult& r : dkim) {
    if (r.status == DkimStatus::kTempError) {
      return true;
    }
  }
  return false;
}

PolicyAction InboundCheck::dmarc_action() const {
  if (!dmarc_outcome_) {
    return PolicyAction::kMark;
  }
  const dmarc::Outcome& o = *dmarc_outcome_;
  if (!from_.ok() && !header_too_large_ && config_->psl) {
    return config_->unclear_from;
  }
  if (o.verdict != dmarc::Verdict::kFail) {
    return PolicyAction::kMark;
  }
  switch (o.disposition) {
    case dmarc::Policy::kReject:
      return config_->dmarc_reject;
    case dmarc::Policy::kQuarantine:
      return config_->dmarc_quarantine;
    default:
      return PolicyAction::kMark;
  }
}

void InboundCheck::deliver() {
  concluded_ = true;
  if (timer_ != 0) {
    shard_.cancel_timer(timer_);
    timer_ = 0;
  }
  InboundVerdict v;
  const std::vector<DkimResult> dkim = dkim_ ? dkim_->results() : std::vector<DkimResult>();
  const std::vector<MethodResult> results = method_results(dkim);
  v.header_prefix = mail_auth::build_authentication_results(config_->authserv_id, results);
  if (spf_mail_ && !spf_mail_->received_spf.empty()) {
    v.header_prefix += "Received-SPF: " + spf_mail_->received_spf + "\r\n";
  }
  for (const MethodResult& m : results) {
    v.summary += (v.summary.empty() ? "" : " ") + m.method + "=" + m.result;
  }
  const PolicyAction dmarc = dmarc_action();
  if (dmarc == PolicyAction::kReject && !from_.ok()) {
    v.action = InboundAction::kReject;
    v.reply = {550, "5.7.1",
               "Message rejected: the From header field must hold exactly one author address (" +
                   std::string(dmarc::from_error_name(from_.error)) + ")"};
  } else if (dmarc == PolicyAction::kReject && had_temporary_error(dkim)) {
    // A DNS failure may be what made the message fail: the sender should try again rather
    // than get a bounce for a passing glitch.
    v.action = InboundAction::kReject;
    v.reply = {451, "4.7.1",
               "DMARC policy of " + from_.domain + " could not be checked fully; try again later"};
  } else if (dmarc == PolicyAction::kReject) {
    v.action = InboundAction::kReject;
    v.reply = {550, "5.7.1", "Email rejected per DMARC policy for " + from_.domain};
  } else if (config_->spf_fail == PolicyAction::kReject && spf_mail_ &&
             spf_mail_->outcome.result == spf::ResultCode::kFail) {
    v.action = InboundAction::kReject;
    v.reply = {550, "5.7.23",
               "SPF validation failed: " + (spf_domain_) + " does not designate " +
                   address_literal(ip_) + " as permitted sender"};
  } else if (dmarc == PolicyAction::kQuarantine) {
    v.action = InboundAction::kQuarantine;
  }
  // Not inside the caller's call (conclude, or a resolver callback that may run inside it).
  shard_.defer([self = shared_from_this(), v = std::move(v)]() mutable {
    std::function<void(InboundVerdict)> done = std::exchange(self->done_, nullptr);
    done(std::move(v));
  });
}

}  // namespace rm
