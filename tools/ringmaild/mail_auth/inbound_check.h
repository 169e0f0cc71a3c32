// InboundCheck: SPF, DKIM and DMARC for one message arriving on the MX listener, while it
// arrives, ending in what to do with it and the header fields that record why.
//
//   auto check = InboundCheck::start(shard, resolver, config, ip, mail_from, helo);
//   store(check->pass(std::move(chunk)));          // each body chunk, as it arrives
//   store(check->finish(std::move(last_chunk)));   // the end of DATA
//   check->conclude([](InboundVerdict v) {         // later, on the shard
//     v.action == InboundAction::kReject ? refuse(v.reply) : commit(v.header_prefix);
//   });
//
// SPF (MAIL FROM, and HELO when configured) starts at once. The header section is held
// until it is complete (at most kHeldHeaderBytesMax): then the DKIM header hashes are taken,
// the From domain is read, and every Authentication-Results field that claims our
// authserv-id is removed (RFC 8601 §5) before the bytes are passed on. Body bytes feed the
// DKIM body hashes as they pass (the SIMD canonicalization; the bytes are not copied).
// conclude() fetches the DKIM keys, waits for SPF, evaluates DMARC, and answers with:
//   - the action: DMARC p=reject failing -> reject (550 5.7.1) by default, or 451 4.7.1 when
//     an SPF or DKIM check met a DNS failure (retry rather than bounce); p=quarantine ->
//     quarantine; SPF fail -> reject (550 5.7.23) only when configured; a From that is
//     missing, repeated or unreadable -> reject (550 5.7.1) by default;
//   - header_prefix: "Authentication-Results:" (spf, dkim per signature, dmarc) and
//     "Received-SPF:", to go on top of the message.
// DNS failures give temperror results and never reject. Everything ends within the SPF time
// limit plus the DNS timeouts; past config.time_limit_ms missing answers are temperror.
//
// Untrusted input: the client's address, HELO and MAIL FROM, the message, DNS answers; the
// parsers bound each (proto/spf, proto/dkim, proto/dmarc).
// Thread-safety: create and use on one shard's thread; `resolver` belongs to that shard and
// may be null (no DNS: every check is temperror). The callback runs on that shard, never
// inside conclude(), and not at all when the shard stops first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/dns/resolver.h"
#include "core/net/cidr.h"
#include "proto/dkim/verifier.h"
#include "proto/dmarc/evaluator.h"
#include "proto/dmarc/public_suffix_list.h"
#include "proto/smtp/reply.h"
#include "tools/ringmaild/mail_auth/spf_check.h"

namespace rm {

class Shard;

// A header section longer than this is passed on unchecked (DKIM and DMARC: permerror).
inline constexpr size_t kHeldHeaderBytesMax = 1 << 20;

enum class PolicyAction : uint8_t { kMark, kQuarantine, kReject };

struct InboundCheckConfig {
  std::string authserv_id;  // this server's name in Authentication-Results
  bool spf = true;
  bool spf_helo = true;
  PolicyAction spf_fail = PolicyAction::kMark;  // kMark or kReject
  SpfCheckOptions spf_options;
  bool dkim = true;
  // DMARC needs the list; null turns it off.
  std::shared_ptr<const dmarc::PublicSuffixList> psl;
  PolicyAction dmarc_reject = PolicyAction::kReject;
  PolicyAction dmarc_quarantine = PolicyAction::kQuarantine;
  PolicyAction unclear_from = PolicyAction::kReject;
  uint32_t time_limit_ms = 30000;  // the whole conclusion, DKIM and DMARC lookups included
};

enum class InboundAction : uint8_t { kAccept, kQuarantine, kReject };

struct InboundVerdict {
  InboundAction action = InboundAction::kAccept;
  smtp::Reply reply;          // for kReject
  std::string header_prefix;  // CRLF-terminated header fields for the top of the message
  std::string summary;        // "spf=pass dkim=pass dmarc=pass", for the log
};

class InboundCheck : public std::enable_shared_from_this<InboundCheck> {
 public:
  static std::shared_ptr<InboundCheck> start(Shard& shard, Resolver* resolver,
                                             std::shared_ptr<const InboundCheckConfig> config,
                                             const IpAddress& ip, std::string mail_from,
                                             std::string helo);

  // The next bytes of the message (dot-unstuffed, as stored); returns the bytes to store now
  // (possibly none while the header section is held).
  std::string pass(std::string bytes);
  // The last bytes of the message; returns everything still to store.
  std::string finish(std::string bytes);
  // After finish(): `done` gets the verdict once, later, on the shard.
  void conclude(std::function<void(InboundVerdict)> done);

  // Use start().
  InboundCheck(Shard& shard, Resolver* resolver, std::shared_ptr<const InboundCheckConfig> config,
               const IpAddress& ip, std::string mail_from, std::string helo);

 private:
  void start_spf();
  std::string take_header(std::string bytes, bool at_end);
  void open_header(std::string_view header_block);
  void look_up_dkim_keys();
  void maybe_evaluate_dmarc();
  void ask_dmarc();
  void ask_dmarc_exists(const std::string& name, size_t type_index);
  void time_out();
  void deliver();
  std::vector<mail_auth::MethodResult> method_results(const std::vector<DkimResult>& dkim) const;
  PolicyAction dmarc_action() const;
  bool had_temporary_error(const std::vector<DkimResult>& dkim) const;

  Shard& shard_;
  Resolver* resolver_;
  const std::shared_ptr<const InboundCheckConfig> config_;
  const IpAddress ip_;
  const std::string mail_from_;
  const std::string helo_;
  const std::string spf_domain_;  // MAIL FROM's domain, or HELO's for the null sender

  std::string held_;  // the header section so far
  bool header_done_ = false;
  bool header_too_large_ = false;
  std::optional<DkimVerifier> dkim_;
  dmarc::FromDomain from_;

  std::optional<SpfCheck> spf_mail_;
  std::optional<SpfCheck> spf_helo_;
  size_t spf_waiting_ = 0;
  bool helo_checked_ = false;  // a HELO check of its own was started
  size_t keys_waiting_ = 0;
  std::optional<dmarc::Evaluator> dmarc_;
  std::optional<dmarc::Outcome> dmarc_outcome_;

  std::function<void(InboundVerdict)> done_;
  uint64_t timer_ = 0;
  bool concluded_ = false;
};

}  // namespace rm
