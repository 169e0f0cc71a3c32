#include "tools/ringmaild/delivery/smtp_transport.h"

#include <algorithm>
#include <utility>

#include "core/base/log.h"
#include "core/net/cidr.h"
#include "core/reactor/outbound.h"
#include "store/account/directory.h"
#include "tls/tls_filter.h"

namespace rm {
namespace {

using smtp::ClientEvent;
using smtp::ClientEventType;

std::string reply_text(const smtp::ServerReply& reply) {
  return reply.summary();
}

RelayResult::Outcome outcome_of(smtp::Outcome o) {
  switch (o) {
    case smtp::Outcome::kAccepted:
      return RelayResult::Outcome::kDelivered;
    case smtp::Outcome::kPermanent:
      return RelayResult::Outcome::kPermanent;
    case smtp::Outcome::kTemporary:
      break;
  }
  return RelayResult::Outcome::kTemporary;
}

// "host:port", "[v6]:port" -> host and port; nullopt when malformed.
std::optional<std::pair<std::string, uint16_t>> split_host_port(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::nullopt;
  }
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text(text.substr(colon + 1));
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  const unsigned long port = std::stoul(port_text);
  if (port == 0 || port > 65535) {
    return std::nullopt;
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

}  // namespace

// One outbound connection. It carries one message at a time and reports each once: the
// per-recipient results, and whether nothing was decided there (so the next host may be
// tried). Between messages it waits, idle, for another one to the same destination
// (SmtpTransport's pool) until relay.connection_idle_ms pass; then it says QUIT.
class OutboundClient final : public ConnectionHandler {
 public:
  using Report = std::function<void(std::vector<RelayResult> results, bool try_next)>;
  // Idle: ready for another message; Gone: the connection is closing (never use it again).
  using Notify = std::function<void(OutboundClient*)>;

  OutboundClient(smtp::ClientConfig config, std::shared_ptr<TlsContext> tls, std::string host,
                 std::string peer, std::shared_ptr<const RelayJob> job, Report report,
                 uint32_t idle_ms, Notify on_idle, Notify on_gone)
      : session_(std::move(config)),
        idle_ms_(idle_ms),
        tls_(std::move(tls)),
        host_(std::move(host)),
        peer_(std::move(peer)),
        on_idle_(std::move(on_idle)),
        on_gone_(std::move(on_gone)) {
    take(std::move(job), std::move(report));
  }

  // Another message on this idle connection.
  void assign(std::shared_ptr<const RelayJob> job, Report report) {
    take(std::move(job), std::move(report));
    idle_ = false;
    if (session_.ready()) {
      sent_ = true;
      send();
    }
    pump();
  }
  const std::string& peer() const { return peer_; }

  void on_open(Connection& conn) override {
    conn_ = &conn;
    pump();
  }
  size_t on_data(Connection&, std::string_view input) override {
    session_.feed(input);
    pump();
    return input.size();
  }
  void on_peer_closed(Connection& conn) override {
    session_.peer_closed();
    pump();
    conn.close_after_flush();
  }
  void on_deadline(Connection& conn) override {
    if (idle_) {
      leave_pool();
      session_.quit();  // idle long enough: say goodbye
      pump();
      return;
    }
    session_.timed_out();
    pump();
    conn.close_after_flush();
  }
  void on_shutdown(Connection& conn) override {
    session_.timed_out();  // nothing decided yet is retried after the restart
    pump();
    conn.close_after_flush();
  }
  void on_close(Connection&) override {
    conn_ = nullptr;
    leave_pool();
    if (job_ && !reported_) {
      session_.peer_closed();
      for (const ClientEvent& ev : session_.take_events()) {
        handle(ev);
      }
      report(true);
    }
  }

 private:
  void pump() {
    for (int round = 0; round < 16; ++round) {
      std::vector<ClientEvent> events = session_.take_events();
      if (events.empty()) {
        break;
      }
      for (const ClientEvent& ev : events) {
        handle(ev);
      }
    }
    if (conn_ == nullptr) {
      return;
    }
    if (!session_.output().empty()) {
      conn_->write(session_.output());
      session_.output().clear();
    }
    const uint32_t timeout = idle_ ? idle_ms_ : smtp::timeout_ms(session_.state());
    if (timeout > 0) {
      conn_->set_deadline_in(timeout);
    }
    if (session_.done()) {
      conn_->close_after_flush();
    }
  }

  void handle(const ClientEvent& ev) {
    switch (ev.type) {
      case ClientEventType::kReady:
        if (!session_.ready()) {
          break;
        }
        if (job_ && !sent_) {
          sent_ = true;
          send();
        } else if (!job_ && !idle_ && conn_ != nullptr && idle_ms_ > 0) {
          idle_ = true;  // the message is done: wait for another
          on_idle_(this);
        } else if (!job_ && idle_ms_ == 0) {
          session_.quit();
        }
        break;
      case ClientEventType::kStartTls:
        start_tls();
        break;
      case ClientEventType::kNeedBody:
        if (job_ && session_.wants_body()) {
          session_.body_end(*job_->body);
        }
        break;
      case ClientEventType::kRecipient:
        if (!job_) {
          break;
        }
        rcpt_seen_ = true;
        if (ev.recipient < results_.size()) {
          results_[ev.recipient] = {outcome_of(ev.outcome),
                                    reply_text(ev.reply) + " (" + peer_ + ")"};
          rcpt_accepted_.resize(results_.size());
          rcpt_accepted_[ev.recipient] = ev.outcome == smtp::Outcome::kAccepted;
        }
        break;
      case ClientEventType::kMessage:
        for (size_t i = 0; i < results_.size(); ++i) {
          if (i < rcpt_accepted_.size() && rcpt_accepted_[i]) {
            results_[i] = {outcome_of(ev.outcome), reply_text(ev.reply) + " (" + peer_ + ")"};
          }
        }
        report(false);
        break;
      case ClientEventType::kFailed:
        if (!rcpt_seen_) {
          last_failure_ = reply_text(ev.reply) + " (" + peer_ + ")";
          permanent_failure_ = ev.outcome == smtp::Outcome::kPermanent &&
                               ev.failure != smtp::Failure::kTlsNotOffered &&
                               ev.failure != smtp::Failure::kTlsRefused;
        }
        break;
      case ClientEventType::kClosed:
        break;
    }
  }

  void start_tls() {
    Result<std::unique_ptr<TlsFilter>> filter = TlsFilter::client(tls_, host_);
    if (!filter.ok() || conn_ == nullptr) {
      session_.tls_failed();
      return;
    }
    conn_->start_filter(std::move(*filter));
    session_.tls_started();  // EHLO is queued; it goes out once the handshake is done
  }

  void take(std::shared_ptr<const RelayJob> job, Report report) {
    job_ = std::move(job);
    report_ = std::move(report);
    results_.assign(job_->recipients.size(), RelayResult{});
    rcpt_accepted_.clear();
    sent_ = false;
    rcpt_seen_ = false;
    reported_ = false;
    permanent_failure_ = false;
    last_failure_.clear();
  }

  void send() {
    const Status s = session_.send_message(message());
    if (!s.ok()) {
      fail_all(RelayResult::Outcome::kPermanent, "554 5.6.0 " + std::string(s.message()));
      report(false);
      session_.quit();
    }
  }

  void leave_pool() {
    if (idle_ || !gone_notified_) {
      idle_ = false;
      if (!gone_notified_) {
        gone_notified_ = true;
        on_gone_(this);
      }
    }
  }

  smtp::OutboundMessage message() const {
    smtp::OutboundMessage m;
    m.sender = job_->sender;
    for (const RelayRecipient& r : job_->recipients) {
      m.recipients.push_back({r.address, r.notify, r.orcpt});
    }
    m.size_bytes = job_->body->size();
    m.body = job_->body_type;
    m.smtputf8 = job_->smtputf8;
    m.ret = job_->ret;
    m.envid = job_->envid;
    return m;
  }

  void fail_all(RelayResult::Outcome outcome, const std::string& reply) {
    for (RelayResult& r : results_) {
      r = {outcome, reply};
    }
  }

  // try_next: the connection ended before any recipient was decided.
  void report(bool connection_ended) {
    if (reported_) {
      return;
    }
    reported_ = true;
    const bool undecided = connection_ended && !rcpt_seen_;
    if (undecided) {
      fail_all(
          permanent_failure_ ? RelayResult::Outcome::kPermanent : RelayResult::Outcome::kTemporary,
          last_failure_.empty() ? "451 4.4.2 lost connection with " + peer_ : last_failure_);
    }
    Report report = std::move(report_);
    std::vector<RelayResult> results = std::move(results_);
    job_.reset();
    report(std::move(results), undecided && !permanent_failure_);
  }

  smtp::ClientSession session_;
  const uint32_t idle_ms_;  // 0: no reuse, QUIT after the message
  std::shared_ptr<TlsContext> tls_;
  const std::string host_;
  const std::string peer_;
  std::shared_ptr<const RelayJob> job_;  // the message in hand; none while idle
  Report report_;
  Notify on_idle_;
  Notify on_gone_;
  bool idle_ = false;
  bool gone_notified_ = false;
  Connection* conn_ = nullptr;
  std::vector<RelayResult> results_;
  std::vector<bool> rcpt_accepted_;
  bool sent_ = false;
  bool rcpt_seen_ = false;
  bool reported_ = false;
  bool permanent_failure_ = false;
  std::string last_failure_;
};

struct SmtpTransport::Run {
  std::shared_ptr<RelayJob> job;
  Done done;
  std::vector<Candidate> candidates;
  size_t next = 0;
  std::string last_error;
};

SmtpTransport::SmtpTransport(Shard& shard, const Options& options,
                             std::shared_ptr<TlsContext> tls_client)
    : shard_(shard), options_(options), tls_client_(std::move(tls_client)) {}

SmtpTransport::~SmtpTransport() {
  *alive_ = false;
}

Resolver* SmtpTransport::resolver() {
  if (!resolver_) {
    ResolverOptions o;
    o.servers = options_.relay.dns_servers;
    o.timeout_ms = options_.relay.dns_timeout_ms;
    Result<std::unique_ptr<Resolver>> made = Resolver::create(shard_, o);
    if (!made.ok()) {
      RM_LOG(kError, "resolver_failed").kv("error", made.status());
      return nullptr;
    }
    resolver_ = std::move(*made);
  }
  return resolver_.get();
}

void SmtpTransport::deliver(RelayJob job, Done done) {
  auto run = std::make_shared<Run>();
  run->job = std::make_shared<RelayJob>(std::move(job));
  run->done = std::move(done);
  const std::string& domain = run->job->domain;
  if (running_[domain] >= options_.relay.destination_concurrency_max) {
    waiting_[domain].push_back(std::move(run));
    return;
  }
  start(std::move(run));
}

void SmtpTransport::start(std::shared_ptr<Run> run) {
  ++running_[run->job->domain];
  auto idle = idle_.find(run->job->domain);
  if (idle != idle_.end() && !idle->second.empty()) {
    OutboundClient* client = idle->second.back();
    idle->second.pop_back();
    if (idle->second.empty()) {
      idle_.erase(idle);
    }
    client->assign(run->job, report_for(run, /*more_hosts=*/false));
    return;
  }
  route(run);
}

std::function<void(std::vector<RelayResult>, bool)> SmtpTransport::report_for(
    const std::shared_ptr<Run>& run, bool more_hosts) {
  return [this, run, more_hosts, alive = alive_](std::vector<RelayResult> results, bool next_host) {
    if (!*alive) {
      return;
    }
    if (next_host && more_hosts && run->next < run->candidates.size()) {
      run->last_error = results.empty() ? "" : results[0].reply;
      try_next(run);
      return;
    }
    if (next_host && !more_hosts) {
      route(run);  // a pooled connection died under the message: start afresh
      return;
    }
    finish(run, std::move(results));
  };
}

void SmtpTransport::pool_idle(const std::string& domain, OutboundClient* client) {
  std::vector<OutboundClient*>& idle = idle_[domain];
  if (idle.size() < options_.relay.destination_concurrency_max) {
    idle.push_back(client);
  }
}

void SmtpTransport::pool_gone(const std::string& domain, OutboundClient* client) {
  auto it = idle_.find(domain);
  if (it == idle_.end()) {
    return;
  }
  std::erase(it->second, client);
  if (it->second.empty()) {
    idle_.erase(it);
  }
}

void SmtpTransport::route(const std::shared_ptr<Run>& run) {
  const std::string& domain = run->job->domain;
  std::string fixed;
  for (const std::string& entry : options_.relay.transport_map) {
    const size_t eq = entry.find('=');
    const std::string key = lower_ascii(entry.substr(0, eq));
    if (key == domain || (key == "*" && fixed.empty())) {
      fixed = entry.substr(eq + 1);
      if (key == domain) {
        break;
      }
    }
  }
  const bool smarthost = fixed.empty() && !options_.relay.smarthost.empty();
  if (smarthost) {
    fixed = options_.relay.smarthost;
  }
  if (!fixed.empty()) {
    std::optional<std::pair<std::string, uint16_t>> hp = split_host_port(fixed);
    if (!hp) {
      fail_all(run, RelayResult::Outcome::kTemporary, "451 4.3.5 bad transport '" + fixed + "'");
      return;
    }
    resolve_hop(run, Hop{hp->first, hp->second, smarthost});
    return;
  }
  Resolver* dns = resolver();
  if (dns == nullptr) {
    fail_all(run, RelayResult::Outcome::kTemporary, "451 4.4.3 no DNS resolver");
    return;
  }
  dns->resolve_mx(domain, [this, run, alive = alive_](MxAnswer answer) {
    if (!*alive) {
      return;
    }
    if (answer.error == DnsError::kNullMx) {
      fail_all(run, RelayResult::Outcome::kPermanent,
               "556 5.1.10 " + run->job->domain + " accepts no mail (null MX)");
      return;
    }
    if (answer.error == DnsError::kNoSuchDomain || answer.error == DnsError::kInvalidName) {
      fail_all(run, RelayResult::Outcome::kPermanent,
               "550 5.1.2 " + run->job->domain + ": domain not found");
      return;
    }
    if (!answer.status.ok() && answer.hosts.empty()) {
      fail_all(run,
               answer.error == DnsError::kNoAddress ? RelayResult::Outcome::kPermanent
                                                    : RelayResult::Outcome::kTemporary,
               std::string(answer.error == DnsError::kNoAddress ? "550 5.4.4 " : "451 4.4.3 ") +
                   run->job->domain + ": " + std::string(answer.status.message()));
      return;
    }
    const uint16_t port = static_cast<uint16_t>(options_.relay.mx_port);
    for (const MxHost& host : answer.hosts) {
      for (const IpAddress& ip : host.addresses) {
        run->candidates.push_back(Candidate{ip, Hop{host.name, port, false}});
      }
    }
    try_next(run);
  });
}

void SmtpTransport::resolve_hop(const std::shared_ptr<Run>& run, Hop hop) {
  if (std::optional<IpAddress> ip = parse_ip(hop.host)) {
    run->candidates.push_back(Candidate{*ip, hop});
    try_next(run);
    return;
  }
  Resolver* dns = resolver();
  if (dns == nullptr) {
    fail_all(run, RelayResult::Outcome::kTemporary, "451 4.4.3 no DNS resolver");
    return;
  }
  dns->resolve_host(hop.host, [this, run, hop, alive = alive_](HostAnswer answer) {
    if (!*alive) {
      return;
    }
    for (const IpAddress& ip : answer.addresses) {
      run->candidates.push_back(Candidate{ip, hop});
    }
    if (run->candidates.empty()) {
      run->last_error = "451 4.4.3 " + hop.host + ": " + std::string(answer.status.message());
    }
    try_next(run);
  });
}

smtp::ClientConfig SmtpTransport::client_config(const Run& run) const {
  smtp::ClientConfig config;
  config.helo_name =
      options_.relay.helo_name.empty() ? options_.server.hostname : options_.relay.helo_name;
  const std::string& policy = options_.relay.tls;
  config.tls = policy == "none"       ? smtp::TlsPolicy::kNone
               : policy == "required" ? smtp::TlsPolicy::kRequired
                                      : smtp::TlsPolicy::kOpportunistic;
  const auto& required = options_.relay.tls_required_domains;
  if (std::find(required.begin(), required.end(), run.job->domain) != required.end()) {
    config.tls = smtp::TlsPolicy::kRequired;
  }
  const Candidate& c = run.candidates[run.next - 1];
  if (c.hop.smarthost && !options_.relay.smarthost_user.empty()) {
    config.credentials =
        smtp::ClientCredentials{options_.relay.smarthost_user, options_.relay.smarthost_password};
    config.tls = smtp::TlsPolicy::kRequired;  // credentials never go out in clear
  }
  return config;
}

void SmtpTransport::try_next(const std::shared_ptr<Run>& run) {
  if (run->next >= run->candidates.size()) {
    fail_all(run, RelayResult::Outcome::kTemporary,
             run->last_error.empty() ? "451 4.4.1 no reachable host for " + run->job->domain
                                     : run->last_error);
    return;
  }
  const Candidate& c = run->candidates[run->next++];
  ConnectSpec spec;
  spec.destination = SocketAddress::from_ip(c.address, c.hop.port);
  spec.timeout_ms = options_.relay.connect_timeout_ms;
  const std::string peer = c.hop.host + "[" + spec.destination.to_string() + "]";
  const smtp::ClientConfig config = client_config(*run);
  const std::string domain = run->job->domain;
  RM_LOG(kInfo, "relay_connect").kv("domain", domain).kv("peer", peer);
  shard_.connect(
      spec,
      [this, config, tls = tls_client_, host = c.hop.host, peer, run, domain,
       alive = alive_](Connection&) {
        return std::make_unique<OutboundClient>(
            config, tls, host, peer, run->job, report_for(run, /*more_hosts=*/true),
            options_.relay.connection_idle_ms,
            [this, domain, alive](OutboundClient* client) {
              if (*alive)
                pool_idle(domain, client);
            },
            [this, domain, alive](OutboundClient* client) {
              if (*alive)
                pool_gone(domain, client);
            });
      },
      [this, run, peer, alive = alive_](const Status& status) {
        if (!*alive) {
          return;
        }
        run->last_error = "451 4.4.1 connect to " + peer + ": " + std::string(status.message());
        try_next(run);
      });
}

void SmtpTransport::fail_all(const std::shared_ptr<Run>& run, RelayResult::Outcome outcome,
                             const std::string& reply) {
  finish(run, std::vector<RelayResult>(run->job->recipients.size(), RelayResult{outcome, reply}));
}

void SmtpTransport::finish(const std::shared_ptr<Run>& run, std::vector<RelayResult> results) {
  const std::string domain = run->job->domain;
  Done done = std::move(run->done);
  done(std::move(results));
  if (--running_[domain] == 0) {
    running_.erase(domain);
  }
  auto it = waiting_.find(domain);
  if (it != waiting_.end() && !it->second.empty()) {
    std::shared_ptr<Run> next = std::move(it->second.front());
    it->second.pop_front();
    if (it->second.empty()) {
      waiting_.erase(it);
    }
    shard_.defer([this, next, alive = alive_] {
      if (*alive) {
        start(next);
      }
    });
  }
}

}  // namespace rm
