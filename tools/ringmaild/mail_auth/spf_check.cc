#include "tools/ringmaild/mail_auth/spf_check.h"

#include <ctime>
#include <memory>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/reactor/shard.h"
#include "proto/spf/received_spf.h"

namespace rm {
namespace {

DnsType dns_type(spf::QueryType type) {
  switch (type) {
    case spf::QueryType::kTxt:
      return DnsType::kTxt;
    case spf::QueryType::kA:
      return DnsType::kA;
    case spf::QueryType::kAaaa:
      return DnsType::kAaaa;
    case spf::QueryType::kMx:
      return DnsType::kMx;
    case spf::QueryType::kPtr:
      return DnsType::kPtr;
  }
  return DnsType::kTxt;
}

spf::Answer to_spf_answer(DnsAnswer dns) {
  spf::Answer out;
  switch (dns.error) {
    case DnsError::kNone:
      out.status = spf::AnswerStatus::kRecords;
      break;
    case DnsError::kNoRecords:
    case DnsError::kNoAddress:
    case DnsError::kNullMx:
      out.status = spf::AnswerStatus::kNoData;
      break;
    case DnsError::kNoSuchDomain:
    case DnsError::kInvalidName:  // a name no server could hold
      out.status = spf::AnswerStatus::kNxDomain;
      break;
    case DnsError::kTemporary:
      out.status = spf::AnswerStatus::kTemporary;
      break;
  }
  out.txt = std::move(dns.txt);
  out.addresses = std::move(dns.addresses);
  out.names = std::move(dns.names);
  for (MxRecord& mx : dns.mx) {
    out.names.push_back(std::move(mx.exchange));
  }
  return out;
}

// One check in progress; shared by the resolver callbacks and the time-limit timer.
struct Check : std::enable_shared_from_this<Check> {
  Check(Shard& s, Resolver& r, const IpAddress& ip, std::string_view sender,
        std::string_view helo_name, const SpfCheckOptions& options, SpfCheckDone d)
      : shard(s),
        resolver(r),
        evaluator(ip, sender, helo_name, options.receiver, static_cast<int64_t>(std::time(nullptr)),
                  options.limits),
        mail_from(sender),
        helo(helo_name),
        receiver(options.receiver),
        done(std::move(d)) {}

  void advance() {
    spf::Step step = evaluator.step();
    if (step.done()) {
      finish(std::move(step.outcome));
      return;
    }
    const spf::Query query = *step.query;
    ++queries;
    std::weak_ptr<Check> weak = weak_from_this();
    resolver.resolve(query.name, dns_type(query.type), [weak, query](DnsAnswer answer) {
      std::shared_ptr<Check> self = weak.lock();
      if (!self || self->finished) {
        return;
      }
      self->evaluator.answer(query, to_spf_answer(std::move(answer)));
      self->advance();
    });
  }

  void time_out() {
    timer = 0;
    if (finished) {
      return;
    }
    spf::Outcome outcome;
    outcome.result = spf::ResultCode::kTempError;
    outcome.problem = "SPF evaluation took longer than its time limit";
    outcome.identity = mail_from.empty() ? "helo" : "mailfrom";
    outcome.domain = evaluator.identity_domain();
    finish(std::move(outcome));
  }

  void finish(spf::Outcome outcome) {
    finished = true;
    if (timer != 0) {
      shard.cancel_timer(timer);
      timer = 0;
    }
    SpfCheck check;
    check.received_spf = spf::received_spf(outcome, evaluator.ip(), mail_from, helo, receiver);
    check.outcome = std::move(outcome);
    check.queries = queries;
    RM_LOG(kDebug, "spf_checked")
        .kv("result", spf::result_name(check.outcome.result))
        .kv("domain", check.outcome.domain)
        .kv("queries", check.queries);
    SpfCheckDone callback = std::move(done);
    callback(std::move(check));
  }

  Shard& shard;
  Resolver& resolver;
  spf::Evaluator evaluator;
  std::string mail_from;
  std::string helo;
  std::string receiver;
  SpfCheckDone done;
  uint64_t timer = 0;
  uint32_t queries = 0;
  bool finished = false;
};

}  // namespace

void check_spf(Shard& shard, Resolver& resolver, const IpAddress& ip, std::string_view mail_from,
               std::string_view helo, const SpfCheckOptions& options, SpfCheckDone done) {
  auto check =
      std::make_shared<Check>(shard, resolver, ip, mail_from, helo, options, std::move(done));
  // The timer holds the check alive until it fires or is cancelled by finish().
  check->timer =
      shard.start_timer(monotonic_ms() + options.time_limit_ms, [check] { check->time_out(); });
  // The first step may need no DNS at all (an invalid domain): answer later all the same.
  shard.defer([check] { check->advance(); });
}

}  // namespace rm
