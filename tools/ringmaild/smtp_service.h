// SmtpService: the SMTP listeners of ringmaild — MX (STARTTLS offered), submission
// (STARTTLS, AUTH once TLS is on) and submissions (implicit TLS, AUTH). Each connection
// runs a pure smtp::ServerSession; accepted messages go durably into the RocksDB queue
// through the shard's QueueStore (group commit) before the client hears 250; passwords are
// checked with Argon2id on the blocking lane.
//
// SECURITY: serves any client that reaches the SMTP ports. Relay (a recipient outside the
// local domains) is allowed only to authenticated clients and smtp.trusted_networks; every
// quantity a client controls is bounded by the smtp.* and limits.* options; failed AUTH is
// slowed down and then refused per client IP.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config/options.h"
#include "core/net/cidr.h"
#include "core/reactor/listener.h"
#include "proto/smtp/session.h"
#include "store/account/directory.h"
#include "store/db/database.h"
#include "store/queue/queue_id.h"
#include "store/queue/queue_store.h"
#include "tls/tls_context.h"
#include "tools/ringmaild/auth_throttle.h"
#include "tools/ringmaild/delivery/srs_policy.h"
#include "tools/ringmaild/mail_auth/inbound_check.h"

namespace rm {

class Runtime;

// kLocal: DATA/submit.sock, for the sendmail command and other local programs (trusted like
// a trusted network: relay allowed, no TLS or AUTH; the client is "[local]").
enum class SmtpPort { kMx, kSubmission, kSubmissions, kLocal };

inline constexpr std::string_view kLocalClient = "[local]";

class SmtpService {
 public:
  // `directory` is the snapshot loaded at start; later ones arrive via publish_directory.
  // `srs` is null when SRS is off.
  SmtpService(const Options& options, Runtime& runtime, Database& db, BodyStore& bodies,
              std::shared_ptr<const Directory> directory, std::shared_ptr<TlsContext> tls,
              std::shared_ptr<const SrsPolicy> srs = nullptr);
  ~SmtpService();

  HandlerFactory factory(SmtpPort port);

  // -- for sessions, on their shard --
  struct ShardState {
    std::unique_ptr<QueueStore> queue;
    std::unique_ptr<QueueIdGenerator> ids;
    std::unordered_map<std::string, uint32_t> sessions_per_ip;
    std::unique_ptr<AuthThrottle> auth_throttle;
  };
  ShardState& shard_state(Shard& shard);
  smtp::Reply check_recipient(const smtp::RecipientRequest& request, const Directory& dir) const;
  const Directory& directory(Shard& shard) const {
    return *directories_[static_cast<size_t>(shard.index())];
  }
  // From a shard: every shard switches to `directory` (each on its own thread).
  void publish_directory(std::shared_ptr<const Directory> directory);
  const Options& options() const { return options_; }
  const smtp::SessionConfig& session_config(SmtpPort port) const {
    return configs_[static_cast<size_t>(port)];
  }
  const std::shared_ptr<TlsContext>& tls() const { return tls_; }
  const SrsPolicy* srs() const { return srs_.get(); }
  Runtime& runtime() { return runtime_; }
  // SPF, DKIM and DMARC (inbound_check.h) apply to mail on the MX listener from clients that
  // are neither trusted nor authenticated; null when every check is off.
  std::shared_ptr<const InboundCheckConfig> inbound_checks(SmtpPort port, const IpAddress* client,
                                                           bool authenticated) const;
  // The shard's DNS resolver (the delivery one, so the cache is shared); null without one.
  using ResolverSource = std::function<Resolver*(Shard&)>;
  void set_resolver_source(ResolverSource source) { resolver_source_ = std::move(source); }
  Resolver* resolver(Shard& shard) const {
    return resolver_source_ ? resolver_source_(shard) : nullptr;
  }
  // Failed-AUTH counts for a client IP live on one shard, whichever shard its connections
  // land on, so that a guesser cannot spread attempts over the shards.
  int throttle_owner(const std::string& ip) const;
  // The throttle of the shard running the caller (the owner of the IPs it is asked about).
  AuthThrottle& throttle_here();
  // The per-IP session limit as one shard enforces it. Counting is per shard, so a client
  // spread over N shards may hold up to N times the limit, never fewer than the limit.
  uint32_t sessions_per_ip_per_shard() const { return per_ip_per_shard_; }

 private:
  const Options options_;
  Runtime& runtime_;
  Database& db_;
  BodyStore& bodies_;
  std::shared_ptr<TlsContext> tls_;
  std::shared_ptr<const SrsPolicy> srs_;
  std::shared_ptr<const InboundCheckConfig> inbound_;
  ResolverSource resolver_source_;
  std::vector<Cidr> trusted_;
  std::vector<std::string> local_domains_;  // lower case
  uint32_t per_ip_per_shard_ = 1;
  smtp::SessionConfig configs_[4];
  std::vector<std::unique_ptr<ShardState>> shards_;
  std::vector<std::shared_ptr<const Directory>> directories_;  // [i]: touched by shard i only
};

}  // namespace rm
