#include "tools/ringmaild/smtp_connection.h"

#include <ctime>
#include <utility>

#include "core/base/clock.h"
#include "core/base/date.h"
#include "core/base/log.h"
#include "core/runtime/runtime.h"
#include "store/account/address_resolver.h"
#include "store/account/password.h"
#include "tls/tls_filter.h"
#include "tools/ringmaild/mail_auth/inbound_check.h"

namespace rm {
namespace {

// What the client hears when the queue could not take the message (RFC 3463: 4.3.1 is
// "mail system full", 4.3.0 any other system error). Either way it may retry: nothing was
// acknowledged.
smtp::Reply store_failure_reply(const Status& status) {
  if (status.code() == StatusCode::kResourceExhausted ||
      status.message().find("space") != std::string_view::npos) {
    return {452, "4.3.1", "Error: insufficient system storage"};
  }
  return {451, "4.3.0", "Error: queue file write error"};
}

Envelope make_envelope(const smtp::Draft& draft, QueueId id, const std::string& client,
                       std::string_view listener, uint64_t body_bytes) {
  Envelope env;
  env.id = id;
  env.sender = draft.sender;
  for (const smtp::EnvelopeRecipient& r : draft.recipients) {
    env.recipients.push_back(Recipient{r.address, r.notify, r.orcpt, Recipient::State::kPending});
  }
  env.client_address = client;
  env.helo = draft.helo;
  env.auth_user = draft.auth_user;
  env.listener = std::string(listener);
  env.received_unix_ms = static_cast<int64_t>(std::time(nullptr)) * 1000;
  env.body_bytes = body_bytes;
  env.body_type = static_cast<uint8_t>(draft.params.body);
  env.smtputf8 = draft.params.smtputf8;
  env.ret = static_cast<uint8_t>(draft.params.ret);
  env.envid = draft.params.envid;
  return env;
}

bool has_local_recipient(const Envelope& env, const Directory& dir) {
  for (const Recipient& r : env.recipients) {
    if (is_local_address(dir, r.address)) {
      return true;
    }
  }
  return false;
}

std::string client_literal(const Connection& conn) {
  std::optional<IpAddress> ip = parse_peer_ip(conn.peer());
  return ip ? address_literal(*ip) : "[" + conn.peer() + "]";
}

class SmtpConnection final : public ConnectionHandler, private smtp::SessionEnv {
 public:
  SmtpConnection(SmtpService& service, SmtpPort port, Connection& conn)
      : service_(service),
        port_(port),
        shard_(conn.shard()),
        state_(service.shard_state(conn.shard())),
        client_(port == SmtpPort::kLocal ? std::string(kLocalClient) : client_literal(conn)),
        peer_ip_(port == SmtpPort::kLocal ? std::nullopt : parse_peer_ip(conn.peer())),
        session_(service.session_config(port), *this, client_) {}

  ~SmtpConnection() override {
    *alive_ = false;
    discard_partial_body();  // the client left in the middle of a large message
    if (counted_ && --state_.sessions_per_ip[client_] == 0) {
      state_.sessions_per_ip.erase(client_);
    }
  }

  void on_open(Connection& conn) override {
    uint32_t& sessions = state_.sessions_per_ip[client_];
    ++sessions;
    counted_ = true;
    if (port_ == SmtpPort::kSubmissions) {
      conn.start_filter(std::make_unique<TlsFilter>(service_.tls()));
    }
    if (sessions > service_.sessions_per_ip_per_shard()) {
      RM_LOG(kInfo, "too_many_connections_from_ip").kv("conn", conn.id()).kv("client", client_);
      conn.write("421 4.7.0 " + service_.options().server.hostname +
                 " Error: too many connections from " + client_ + "\r\n");
      conn.close_after_flush();
      return;
    }
    RM_LOG(kDebug, "smtp_connect")
        .kv("conn", conn.id())
        .kv("client", client_)
        .kv("listener", conn.listener());
    const uint32_t delay = service_.options().smtp.greeting_delay_ms;
    if (delay == 0) {
      greet(conn);
    } else {
      greeting_pending_ = true;
      conn.set_deadline_in(delay);
    }
  }

  size_t on_data(Connection& conn, std::string_view input) override {
    if (greeting_pending_) {
      if (input.empty()) {
        return 0;
      }
      std::string out;
      session_.early_talker(out);  // RFC 5321 §4.3.1: the client must wait for the 220
      conn.write(out);
      conn.close_after_flush();
      return input.size();
    }
    if (!delayed_reply_.empty()) {
      return 0;  // an answer is being held back (failed AUTH): read nothing more until it goes
    }
    std::string out;
    size_t used = session_.feed(input, out);
    start_inbound_checks(conn);
    flush_body_chunks();
    if (!session_.in_data() && session_.action() != smtp::SessionAction::kCommit) {
      discard_partial_body();  // refused at its end (too big, bare LF) or reset
      check_.reset();
    }
    conn.write(out);
    if (session_.action() == smtp::SessionAction::kStartTls) {
      start_tls(conn);
      return input.size();  // bytes pipelined behind STARTTLS are dropped, never commands
    }
    after_feed(conn);
    return used;
  }

  void on_deadline(Connection& conn) override {
    if (greeting_pending_) {
      greet(conn);
      return;
    }
    if (!delayed_reply_.empty()) {
      conn.write(std::exchange(delayed_reply_, std::string()));
      after_feed(conn);
      conn.resume_input();
      return;
    }
    std::string out;
    session_.timed_out(out);
    conn.write(out);
    conn.close_after_flush();
  }

  void on_shutdown(Connection& conn) override {
    std::string out;
    session_.shutting_down(out);
    conn.write(out);
    conn.close_after_flush();
  }

 private:
  void greet(Connection& conn) {
    greeting_pending_ = false;
    conn.write(session_.greeting());
    conn.set_deadline_in(service_.options().smtp.command_timeout_ms);
  }

  void after_feed(Connection& conn) {
    switch (session_.action()) {
      case smtp::SessionAction::kClose:
        conn.close_after_flush();
        return;
      case smtp::SessionAction::kCommit:
        commit(conn);
        return;
      case smtp::SessionAction::kAuthenticate:
        authenticate(conn);
        return;
      case smtp::SessionAction::kStartTls:  // handled in on_data
      case smtp::SessionAction::kNone:
        conn.set_deadline_in(session_.in_data() ? service_.options().smtp.data_timeout_ms
                                                : service_.options().smtp.command_timeout_ms);
        return;
    }
  }

  void start_tls(Connection& conn) {
    conn.start_filter(std::make_unique<TlsFilter>(service_.tls()));
    session_.tls_started();
    conn.set_deadline_in(service_.options().smtp.command_timeout_ms);
  }

  // SPF, DKIM and DMARC for the message now arriving, when they apply to this client: they
  // run while the body arrives and decide at its end (commit).
  void start_inbound_checks(Connection& conn) {
    const bool message_started =
        session_.in_data() || session_.action() == smtp::SessionAction::kCommit;
    if (checks_started_ || !message_started) {
      return;
    }
    checks_started_ = true;
    std::shared_ptr<const InboundCheckConfig> config =
        service_.inbound_checks(port_, peer_ip_ ? &*peer_ip_ : nullptr, session_.authenticated());
    if (config) {
      RM_LOG(kDebug, "inbound_checks_started").kv("conn", conn.id()).kv("queue_id", id_.text());
      check_ = InboundCheck::start(shard_, service_.resolver(shard_), std::move(config), *peer_ip_,
                                   session_.draft().sender, session_.draft().helo);
    }
  }

  // Large bodies go to the store while they arrive, so a session holds at most about one
  // chunk of a message in memory (plus its header section while the checks hold it).
  void flush_body_chunks() {
    std::string& body = session_.body();
    if (!session_.in_data() || body.size() < service_.options().smtp.body_chunk_bytes) {
      return;
    }
    std::string bytes = std::exchange(body, std::string());
    if (check_) {
      bytes = check_->pass(std::move(bytes));
    }
    if (bytes.empty()) {
      return;
    }
    body_bytes_ += bytes.size();
    state_.queue->append_chunk(id_, std::move(bytes));
    ++chunks_;
  }

  // Chunks already written for a message that will never be committed.
  void discard_partial_body() {
    if (chunks_ > 0) {
      state_.queue->discard(id_);
      chunks_ = 0;
      body_bytes_ = 0;
    }
  }

  void commit(Connection& conn) {
    std::string last = std::exchange(session_.body(), std::string());
    if (!check_) {
      store(conn, std::move(last), {}, false);
      return;
    }
    last = check_->finish(std::move(last));
    Connection* connection = &conn;
    check_->conclude(
        [this, alive = alive_, connection, last = std::move(last)](InboundVerdict verdict) mutable {
          if (*alive) {
            check_.reset();
            apply_verdict(*connection, std::move(verdict), std::move(last));
          }
        });
  }

  void apply_verdict(Connection& conn, InboundVerdict verdict, std::string last) {
    const char* action = verdict.action == InboundAction::kReject       ? "reject"
                         : verdict.action == InboundAction::kQuarantine ? "quarantine"
                                                                        : "accept";
    RM_LOG(kInfo, "inbound_checks")
        .kv("conn", conn.id())
        .kv("queue_id", id_.text())
        .kv("results", verdict.summary)
        .kv("action", action);
    if (verdict.action != InboundAction::kReject) {
      store(conn, std::move(last), std::move(verdict.header_prefix),
            verdict.action == InboundAction::kQuarantine);
      return;
    }
    discard_partial_body();
    std::string out;
    session_.commit_finished(&verdict.reply, out);
    conn.write(out);
    conn.set_deadline_in(service_.options().smtp.command_timeout_ms);
    conn.resume_input();
  }

  // Queues the message durably; the client hears 250 once it is synced.
  void store(Connection& conn, std::string last, std::string header_prefix, bool quarantine) {
    body_bytes_ += last.size();
    Envelope env = make_envelope(session_.draft(), id_, client_, conn.listener(), body_bytes_);
    env.quarantine = quarantine;
    const uint64_t conn_id = conn.id();
    Connection* connection = &conn;
    // A body some local mailbox will keep goes to segment files even when small.
    const bool inline_allowed = !has_local_recipient(env, service_.directory(shard_));
    state_.queue->commit(
        std::move(env), std::move(last),
        [this, alive = alive_, connection, conn_id, id = id_.text()](Status s) {
          if (!s.ok()) {
            RM_LOG(kWarn, "queue_write_failed")
                .kv("conn", conn_id)
                .kv("queue_id", id)
                .kv("error", s);
          } else {
            RM_LOG(kInfo, "queued").kv("conn", conn_id).kv("queue_id", id);
          }
          if (!*alive) {
            return;  // the client left before the fsync; the message is queued all the same
          }
          std::string out;
          const smtp::Reply failure = store_failure_reply(s);
          session_.commit_finished(s.ok() ? nullptr : &failure, out);
          connection->write(out);
          connection->set_deadline_in(service_.options().smtp.command_timeout_ms);
          connection->resume_input();  // commands pipelined behind the message
        },
        inline_allowed, std::move(header_prefix));
    body_bytes_ = 0;
    chunks_ = 0;
  }

  // AUTH: ask the client IP's throttle (on the shard that owns that IP) whether it may try,
  // check the password on the blocking lane, and report a failure back to the owner, which
  // says how long to hold the answer. Every step re-checks that the connection still lives.
  void authenticate(Connection& conn) {
    Connection* connection = &conn;
    const int owner = service_.throttle_owner(client_);
    const int home = shard_.index();
    Runtime& rt = service_.runtime();
    rt.submit_to(owner, [this, &rt, home, connection, alive = alive_, ip = client_] {
      const bool refused = service_.throttle_here().refused(ip, monotonic_ms());
      rt.submit_to(home, [this, connection, alive, refused] {
        if (*alive) {
          refused ? refuse_auth(*connection) : verify_password_on_lane(*connection);
        }
      });
    });
  }

  void refuse_auth(Connection& conn) {
    RM_LOG(kWarn, "auth_refused").kv("conn", conn.id()).kv("client", client_);
    std::string out;
    const smtp::Reply refusal{
        421, "4.7.0",
        service_.options().server.hostname + " Error: too many failed authentication attempts"};
    session_.auth_finished(false, out, &refusal);
    conn.write(out);
    conn.close_after_flush();
  }

  void verify_password_on_lane(Connection& conn) {
    const smtp::Credentials& creds = session_.credentials();
    const std::string user = lower_ascii(creds.user);
    const std::string* known = service_.directory(shard_).password_hash(user);
    Shard* shard = &shard_;
    Connection* connection = &conn;
    Status queued = shard_.run_blocking([this, shard, connection, alive = alive_, user,
                                         hash = known ? *known : decoy_password_hash(),
                                         exists = known != nullptr, password = creds.password]() {
      const bool ok = verify_password(hash, password) && exists;
      shard->complete_from_lane([this, connection, alive, user, ok] {
        if (*alive) {
          auth_done(*connection, user, ok);
        }
      });
    });
    if (!queued.ok()) {
      std::string out;
      const smtp::Reply busy{454, "4.7.0", "Error: temporary authentication failure"};
      session_.auth_finished(false, out, &busy);
      conn.write(out);
    }
  }

  void auth_done(Connection& conn, const std::string& user, bool ok) {
    std::string out;
    session_.auth_finished(ok, out);
    if (ok) {
      RM_LOG(kInfo, "auth_ok").kv("conn", conn.id()).kv("client", client_).kv("user", user);
      conn.write(out);
      conn.set_deadline_in(service_.options().smtp.command_timeout_ms);
      conn.resume_input();
      return;
    }
    RM_LOG(kWarn, "auth_failed").kv("conn", conn.id()).kv("client", client_).kv("user", user);
    // Record the failure with the IP's owner; it answers with the tarpit delay.
    Connection* connection = &conn;
    const int home = shard_.index();
    Runtime& rt = service_.runtime();
    rt.submit_to(service_.throttle_owner(client_), [this, &rt, home, connection, alive = alive_,
                                                    ip = client_, out = std::move(out)]() mutable {
      AuthThrottle& throttle = service_.throttle_here();
      const int64_t now = monotonic_ms();
      throttle.record_failure(ip, now);
      const uint32_t delay = throttle.delay_ms(ip, now);
      rt.submit_to(home, [this, connection, alive, delay, out = std::move(out)]() mutable {
        if (*alive) {
          send_auth_failure(*connection, std::move(out), delay);
        }
      });
    });
  }

  void send_auth_failure(Connection& conn, std::string out, uint32_t delay_ms) {
    if (delay_ms == 0 || session_.action() == smtp::SessionAction::kClose) {
      conn.write(out);
      after_feed(conn);
      conn.resume_input();
      return;
    }
    delayed_reply_ = std::move(out);  // tarpit: the answer goes out when the deadline fires
    conn.set_deadline_in(delay_ms);
  }

  // smtp::SessionEnv
  smtp::Reply check_recipient(const smtp::RecipientRequest& request) override {
    return service_.check_recipient(request, service_.directory(shard_));
  }
  std::string next_queue_id() override {
    id_ = state_.ids->next();
    checks_started_ = false;
    check_.reset();
    body_bytes_ = 0;
    chunks_ = 0;
    return id_.text();
  }
  std::string rfc5322_now() override { return rfc5322_date(std::time(nullptr)); }

  SmtpService& service_;
  const SmtpPort port_;
  Shard& shard_;
  SmtpService::ShardState& state_;
  const std::string client_;
  const std::optional<IpAddress> peer_ip_;  // none for the local socket
  smtp::ServerSession session_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  bool greeting_pending_ = false;
  bool counted_ = false;
  std::string delayed_reply_;
  QueueId id_;
  uint64_t body_bytes_ = 0;
  uint32_t chunks_ = 0;
  bool checks_started_ = false;          // for the current message
  std::shared_ptr<InboundCheck> check_;  // its inbound checks, when they apply
};

}  // namespace

std::unique_ptr<ConnectionHandler> make_smtp_connection(SmtpService& service, SmtpPort port,
                                                        Connection& conn) {
  return std::make_unique<SmtpConnection>(service, port, conn);
}

}  // namespace rm
