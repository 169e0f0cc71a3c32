// check_spf(): runs the SPF evaluator (proto/spf) on a shard, its DNS questions answered by
// the shard's Resolver, and calls back once with the outcome and the Received-SPF value.
//
//   check_spf(shard, resolver, ip, "user@example.org", "mx.example.org",
//             SpfCheckOptions{.receiver = "mail.example.net"}, [](SpfCheck check) {
//     log(spf::result_name(check.outcome.result), check.received_spf);
//   });
//
// The whole check is bounded by time_limit_ms (RFC 7208 §4.6.4 suggests at least 20 s):
// past it the answer is temperror, and DNS answers that come later are ignored. The
// callback always runs, later than the call (never inside it), on the shard's thread, as
// long as the shard runs; if the Resolver is destroyed first, at the time limit.
// Untrusted input: the client's address, MAIL FROM and HELO; DNS answers (resolver.h).
// Thread-safety: call on the shard's thread; `resolver` must belong to that shard.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/dns/resolver.h"
#include "core/net/cidr.h"
#include "proto/spf/evaluator.h"

namespace rm {

class Shard;

struct SpfCheckOptions {
  std::string receiver;            // this server's name: %{r} and the Received-SPF receiver
  uint32_t time_limit_ms = 20000;  // the whole evaluation, every DNS query included
  spf::Limits limits;
};

struct SpfCheck {
  spf::Outcome outcome;
  std::string received_spf;  // the header field's value, without "Received-SPF: "
  uint32_t queries = 0;      // DNS questions the evaluation asked
};

using SpfCheckDone = std::function<void(SpfCheck check)>;

void check_spf(Shard& shard, Resolver& resolver, const IpAddress& ip, std::string_view mail_from,
               std::string_view helo, const SpfCheckOptions& options, SpfCheckDone done);

}  // namespace rm
