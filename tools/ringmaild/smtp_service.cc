#include "tools/ringmaild/smtp_service.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/runtime/runtime.h"
#include "store/account/address_resolver.h"
#include "tools/ringmaild/smtp_connection.h"

namespace rm {
namespace {

smtp::SessionConfig make_session_config(const Options& options, SmtpPort port) {
  smtp::SessionConfig c;
  c.hostname = options.server.hostname;
  c.submission = port != SmtpPort::kMx;
  c.hide_client_in_received = options.smtp.submission_hide_client;
  c.vrfy_enabled = options.smtp.vrfy_enabled;
  c.helo_required = options.smtp.helo_required;
  c.message_bytes_max = options.smtp.message_bytes_max;
  c.recipients_max = options.smtp.recipients_max;
  c.errors_max = options.smtp.errors_max;
  c.line_bytes_max = options.smtp.line_bytes_max;
  c.bare_line_policy = options.smtp.bare_line_policy == "normalize"
                           ? smtp::BareLinePolicy::kNormalize
                           : smtp::BareLinePolicy::kReject;
  c.starttls_offered = port == SmtpPort::kMx || port == SmtpPort::kSubmission;
  c.tls_active = port == SmtpPort::kSubmissions;
  // Like Postfix's master.cf for submission: AUTH on the submission ports, not on the MX.
  c.auth_enabled = port == SmtpPort::kSubmission || port == SmtpPort::kSubmissions;
  c.auth_plaintext_allowed = options.smtp.auth_plaintext_allowed;
  return c;
}

PolicyAction policy_action(const std::string& name) {
  if (name == "reject") {
    return PolicyAction::kReject;
  }
  return name == "quarantine" ? PolicyAction::kQuarantine : PolicyAction::kMark;
}

// Debian's publicsuffix package; without it DMARC is off (and says so in the log).
std::shared_ptr<const dmarc::PublicSuffixList> load_public_suffix_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    RM_LOG(kError, "dmarc_off").kv("reason", "cannot read the public suffix list").kv("file", path);
    return nullptr;
  }
  Result<dmarc::PublicSuffixList> psl = dmarc::PublicSuffixList::parse(text.str());
  if (!psl.ok() || psl->rule_count() == 0) {
    RM_LOG(kError, "dmarc_off")
        .kv("reason", "unusable public suffix list")
        .kv("file", path)
        .kv("error", psl.ok() ? Status::InvalidArgument("no rules") : psl.status());
    return nullptr;
  }
  return std::make_shared<const dmarc::PublicSuffixList>(std::move(*psl));
}

std::shared_ptr<const InboundCheckConfig> make_inbound_config(const Options& options) {
  if (!options.spf.verify_inbound && !options.dkim.verify_inbound &&
      !options.dmarc.verify_inbound) {
    return nullptr;
  }
  auto c = std::make_shared<InboundCheckConfig>();
  c->authserv_id = options.server.hostname;
  c->spf = options.spf.verify_inbound;
  c->spf_helo = options.spf.check_helo;
  c->spf_fail = policy_action(options.spf.fail);
  c->spf_options.receiver = options.server.hostname;
  c->spf_options.time_limit_ms = options.spf.time_limit_ms;
  c->dkim = options.dkim.verify_inbound;
  if (options.dmarc.verify_inbound) {
    c->psl = load_public_suffix_list(options.dmarc.public_suffix_list);
  }
  c->dmarc_reject = policy_action(options.dmarc.reject);
  c->dmarc_quarantine = policy_action(options.dmarc.quarantine);
  c->unclear_from = policy_action(options.dmarc.unclear_from);
  // SPF's own limit, then the DKIM key and DMARC lookups (each a few DNS timeouts at most).
  c->time_limit_ms = options.spf.time_limit_ms + 4 * options.relay.dns_timeout_ms;
  return c;
}

}  // namespace

SmtpService::SmtpService(const Options& options, Runtime& runtime, Database& db, BodyStore& bodies,
                         std::shared_ptr<const Directory> directory,
                         std::shared_ptr<TlsContext> tls, std::shared_ptr<const SrsPolicy> srs)
    : options_(options),
      runtime_(runtime),
      db_(db),
      bodies_(bodies),
      tls_(std::move(tls)),
      srs_(std::move(srs)),
      inbound_(make_inbound_config(options)),
      configs_{make_session_config(options, SmtpPort::kMx),
               make_session_config(options, SmtpPort::kSubmission),
               make_session_config(options, SmtpPort::kSubmissions),
               make_session_config(options, SmtpPort::kLocal)} {
  for (const std::string& text : options.smtp.trusted_networks) {
    if (std::optional<Cidr> cidr = Cidr::parse(text)) {
      trusted_.push_back(*cidr);
    }
  }
  for (const std::string& domain : options.server.local_domains) {
    local_domains_.push_back(lower_ascii(domain));
  }
  const uint32_t shards = static_cast<uint32_t>(runtime.shard_count());
  shards_.resize(shards);
  // Each shard allows the whole limit: SO_REUSEPORT hashes one client's connections unevenly
  // over the shards, and a share of the limit would refuse a client that stays within it.
  per_ip_per_shard_ = options.smtp.connections_per_ip_max;
  directories_.assign(shards, std::move(directory));
}

SmtpService::~SmtpService() = default;

HandlerFactory SmtpService::factory(SmtpPort port) {
  return [this, port](Connection& conn) { return make_smtp_connection(*this, port, conn); };
}

void SmtpService::publish_directory(std::shared_ptr<const Directory> directory) {
  for (int i = 0; i < runtime_.shard_count(); ++i) {
    runtime_.submit_to(i,
                       [this, i, directory] { directories_[static_cast<size_t>(i)] = directory; });
  }
}

SmtpService::ShardState& SmtpService::shard_state(Shard& shard) {
  std::unique_ptr<ShardState>& slot = shards_[static_cast<size_t>(shard.index())];
  if (!slot) {  // only this shard's thread touches its slot
    slot = std::make_unique<ShardState>();
    slot->queue = std::make_unique<QueueStore>(
        shard, db_, bodies_,
        QueueStore::Config{.segment_bytes = uint64_t{options_.store.body_segment_mib} << 20,
                           .inline_body_max = options_.store.inline_body_bytes_max});
    slot->ids = std::make_unique<QueueIdGenerator>(shard.index());
    slot->auth_throttle = std::make_unique<AuthThrottle>(options_.smtp.auth_failures_before_delay,
                                                         options_.smtp.auth_failures_max,
                                                         options_.smtp.auth_failure_window_ms);
  }
  return *slot;
}

std::shared_ptr<const InboundCheckConfig> SmtpService::inbound_checks(SmtpPort port,
                                                                      const IpAddress* client,
                                                                      bool authenticated) const {
  if (port != SmtpPort::kMx || client == nullptr || authenticated ||
      any_contains(trusted_, *client)) {
    return nullptr;
  }
  return inbound_;
}

int SmtpService::throttle_owner(const std::string& ip) const {
  return static_cast<int>(std::hash<std::string>{}(ip) %
                          static_cast<size_t>(runtime_.shard_count()));
}

AuthThrottle& SmtpService::throttle_here() {
  Shard* shard = Shard::current();
  RM_ASSERT(shard != nullptr);
  return *shard_state(*shard).auth_throttle;
}

namespace {

// Whether a local-domain address reaches anything (an account, an alias, a catch-all).
bool resolves_locally(const Directory& dir, const std::string& address) {
  for (const DeliveryTarget& target : resolve_address(dir, address)) {
    if (target.kind != DeliveryTarget::Kind::kRemote || target.address != address) {
      return true;
    }
  }
  return false;
}

}  // namespace

smtp::Reply SmtpService::check_recipient(const smtp::RecipientRequest& request,
                                         const Directory& dir) const {
  const std::string domain = lower_ascii(request.mailbox.domain);
  const std::string local = lower_ascii(request.mailbox.local);
  // A bounce to an address we rewrote when forwarding: accepted only when it reverses (our
  // hash, not expired), whatever the sender, as postsrsd does.
  if (srs_) {
    const std::string address = request.mailbox.address();
    if (std::optional<srs::Rewritten> back = srs_->reverse_recipient(address, unix_ms() / 1000)) {
      if (back->ok()) {
        return {250, "2.1.5", "Ok"};
      }
      return {550, "5.1.1", SrsPolicy::refusal_text(address, back->error)};
    }
  }
  bool is_local = domain.empty() || dir.has_domain(domain);
  for (const std::string& d : local_domains_) {
    is_local = is_local || d == domain;
  }
  if (is_local) {
    // postmaster must always be accepted (RFC 5321 §4.5.1).
    if (local == "postmaster" || resolves_locally(dir, local + "@" + domain)) {
      return {250, "2.1.5", "Ok"};
    }
    return {550, "5.1.1",
            "<" + request.mailbox.address() + ">: Recipient address rejected: User unknown"};
  }
  std::optional<IpAddress> ip = parse_address_literal(request.client_address);
  if (request.authenticated || request.client_address == kLocalClient ||
      (ip && any_contains(trusted_, *ip))) {
    return {250, "2.1.5", "Ok"};
  }
  return {554, "5.7.1", "<" + request.mailbox.address() + ">: Relay access denied"};
}

}  // namespace rm
