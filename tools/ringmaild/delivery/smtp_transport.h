// SmtpTransport: delivery to other SMTP servers, one per shard. A job is one message to the
// recipients of one destination domain. The route: the transport map (relay.transport_map),
// else the smarthost, else the domain's MX hosts (c-ares on the shard: implicit MX, null MX
// → bounce, NXDOMAIN → bounce, DNS trouble → retry). The next hop's addresses are tried in
// order until one takes the transaction; each connection runs a pure smtp::ClientSession
// (PIPELINING, SIZE, 8BITMIME, SMTPUTF8, CHUNKING, DSN when offered; STARTTLS per
// relay.tls and relay.tls_required_domains; AUTH to the smarthost). Each recipient's RCPT
// reply decides its fate: 2xx (and the final reply) delivered, 4xx retry, 5xx bounce.
// At most relay.destination_concurrency_max jobs per destination run at once on a shard;
// the rest wait their turn. A connection that finished its message stays open for a few
// seconds and takes the next message to the same domain (no new TCP, TLS or EHLO).
// Thread-safety: one per shard; every member function runs on that shard's thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config/options.h"
#include "core/dns/resolver.h"
#include "core/reactor/shard.h"
#include "proto/smtp/client/client_session.h"
#include "tls/tls_context.h"

namespace rm {

class OutboundClient;

struct RelayRecipient {
  std::string address;
  uint8_t notify = 0;
  std::string orcpt;
};

struct RelayJob {
  std::string domain;  // the destination (lower case)
  std::string sender;
  std::vector<RelayRecipient> recipients;
  std::shared_ptr<const std::string> body;  // wire form
  smtp::Body body_type = smtp::Body::k7Bit;
  bool smtputf8 = false;
  smtp::Ret ret = smtp::Ret::kUnset;
  std::string envid;
};

struct RelayResult {
  enum class Outcome : uint8_t { kDelivered, kTemporary, kPermanent };
  Outcome outcome = Outcome::kTemporary;
  std::string reply;  // "250 2.0.0 Ok: queued (mx.example.net[192.0.2.1])"
};

class SmtpTransport {
 public:
  // Per recipient of the job, in order.
  using Done = std::function<void(std::vector<RelayResult>)>;

  SmtpTransport(Shard& shard, const Options& options, std::shared_ptr<TlsContext> tls_client);
  ~SmtpTransport();
  SmtpTransport(const SmtpTransport&) = delete;
  SmtpTransport& operator=(const SmtpTransport&) = delete;

  void deliver(RelayJob job, Done done);

  // The shard's resolver over relay.dns_servers, made at the first use (null when c-ares
  // cannot start); its cache serves MX lookups and the inbound checks alike.
  Resolver* resolver();

 private:
  struct Hop {
    std::string host;  // the name (or literal) for logs and SNI
    uint16_t port = 25;
    bool smarthost = false;
  };
  struct Candidate {
    IpAddress address;
    Hop hop;
  };
  struct Run;

  void start(std::shared_ptr<Run> run);
  void route(const std::shared_ptr<Run>& run);
  void resolve_hop(const std::shared_ptr<Run>& run, Hop hop);
  void try_next(const std::shared_ptr<Run>& run);
  void finish(const std::shared_ptr<Run>& run, std::vector<RelayResult> results);
  void fail_all(const std::shared_ptr<Run>& run, RelayResult::Outcome outcome,
                const std::string& reply);
  smtp::ClientConfig client_config(const Run& run) const;
  std::function<void(std::vector<RelayResult>, bool)> report_for(const std::shared_ptr<Run>& run,
                                                                 bool more_hosts);
  void pool_idle(const std::string& domain, OutboundClient* client);
  void pool_gone(const std::string& domain, OutboundClient* client);

  Shard& shard_;
  const Options& options_;
  std::shared_ptr<TlsContext> tls_client_;
  std::unique_ptr<Resolver> resolver_;
  std::unordered_map<std::string, uint32_t> running_;  // per destination
  std::unordered_map<std::string, std::deque<std::shared_ptr<Run>>> waiting_;
  // Connections that finished a message and wait for another to the same domain.
  std::unordered_map<std::string, std::vector<OutboundClient*>> idle_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rm
