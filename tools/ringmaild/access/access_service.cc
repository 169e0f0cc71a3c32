#include "tools/ringmaild/access/access_service.h"

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/runtime/runtime.h"
#include "store/account/directory.h"
#include "store/account/password.h"
#include "tools/ringmaild/delivery/ownership.h"
#include "tools/ringmaild/imap/imap_connection.h"
#include "tools/ringmaild/pop3/pop3_connection.h"
#include "tools/ringmaild/smtp_service.h"

namespace rm {

AccessService::AccessService(const Options& options, Runtime& runtime, Database& db,
                             BodyStore& bodies, SmtpService& smtp,
                             std::shared_ptr<TlsContext> tls)
    : options_(options), runtime_(runtime), db_(db), bodies_(bodies), smtp_(smtp),
      tls_(std::move(tls)), hubs_(static_cast<size_t>(runtime.shard_count())) {
  for (int i = 0; i < runtime.shard_count(); ++i) {
    login_caches_.push_back(std::make_unique<LoginCache>(options.access.login_cache_ms));
  }
}

// The runtime has stopped (shards and lanes joined) before this runs.
AccessService::~AccessService() = default;

HandlerFactory AccessService::imap_factory(bool implicit_tls) {
  return [this, implicit_tls](Connection& conn) {
    return make_imap_connection(*this, implicit_tls, conn);
  };
}

HandlerFactory AccessService::pop3_factory(bool implicit_tls) {
  return [this, implicit_tls](Connection& conn) {
    return make_pop3_connection(*this, implicit_tls, conn);
  };
}

AccountHub& AccessService::hub(Shard& shard) {
  std::unique_ptr<AccountHub>& hub = hubs_[static_cast<size_t>(shard.index())];
  if (!hub) {
    // Kept until the service goes, after the runtime stopped: a lane job still running at
    // shard exit may use it.
    hub = std::make_unique<AccountHub>(shard, db_, bodies_, options_);
  }
  return *hub;
}

int AccessService::owner_of(const std::string& account) const {
  return account_owner(account, runtime_.shard_count());
}

void AccessService::delivered(Shard& shard, const std::vector<MailboxDelivery>& deliveries) {
  if (hubs_[static_cast<size_t>(shard.index())]) {
    hub(shard).delivered(deliveries);
  }
}

void AccessService::login(Shard& shard, const std::string& client_ip, const std::string& user,
                          const std::string& password, LoginDone done) {
  const std::string account = lower_ascii(user);
  const int home = shard.index();
  runtime_.submit_to(smtp_.throttle_owner(client_ip), [this, home, client_ip, account, password,
                                                       done = std::move(done)]() mutable {
    const bool refused = smtp_.throttle_here().refused(client_ip, monotonic_ms());
    if (refused) {
      runtime_.submit_to(home, [client_ip, account, done = std::move(done)]() mutable {
        RM_LOG(kWarn, "login_refused").kv("client", client_ip);
        done(LoginOutcome::kRefused, account, 0);
      });
      return;
    }
    // Verified on the account's owner shard, whose login cache then serves every later
    // login of the account, whichever shard accepted the connection (and the session
    // moves there anyway). The answer goes back home.
    LoginDone at_home = [this, home, done = std::move(done)](LoginOutcome outcome,
                                                             const std::string& account_name,
                                                             uint32_t delay_ms) mutable {
      runtime_.submit_to(home, [done = std::move(done), outcome, account_name, delay_ms]() mutable {
        done(outcome, account_name, delay_ms);
      });
    };
    runtime_.submit_to(owner_of(account), [this, client_ip, account, password,
                                           at_home = std::move(at_home)]() mutable {
      verify_on_lane(*Shard::current(), client_ip, account, password, std::move(at_home));
    });
  });
}

void AccessService::verify_on_lane(Shard& shard, const std::string& client_ip,
                                   const std::string& account, const std::string& password,
                                   LoginDone done) {
  const std::string* known = smtp_.directory(shard).password_hash(account);
  LoginCache& cache = *login_caches_[static_cast<size_t>(shard.index())];
  if (known != nullptr && cache.fresh(account, password, *known, monotonic_ms())) {
    shard.defer([done = std::move(done), account] { done(LoginOutcome::kOk, account, 0); });
    return;
  }
  Shard* here = &shard;
  auto shared_done = std::make_shared<LoginDone>(std::move(done));
  Status queued = shard.run_blocking([this, here, client_ip, account, password, shared_done,
                                      hash = known ? *known : decoy_password_hash(),
                                      exists = known != nullptr] {
    const bool ok = verify_password(hash, password) && exists;
    here->complete_from_lane([this, here, client_ip, account, password, hash, shared_done, ok] {
      if (ok) {
        login_caches_[static_cast<size_t>(here->index())]->remember(account, password, hash,
                                                                    monotonic_ms());
        (*shared_done)(LoginOutcome::kOk, account, 0);
      } else {
        report_failure(*here, client_ip, account, std::move(*shared_done));
      }
    });
  });
  if (!queued.ok()) {
    shard.defer([shared_done, account] { (*shared_done)(LoginOutcome::kTemporary, account, 0); });
  }
}

void AccessService::report_failure(Shard& shard, const std::string& client_ip,
                                   const std::string& account, LoginDone done) {
  RM_LOG(kWarn, "login_failed").kv("client", client_ip).kv("user", account);
  const int home = shard.index();
  runtime_.submit_to(smtp_.throttle_owner(client_ip), [this, home, client_ip, account,
                                                       done = std::move(done)]() mutable {
    AuthThrottle& throttle = smtp_.throttle_here();
    const int64_t now = monotonic_ms();
    throttle.record_failure(client_ip, now);
    const uint32_t delay = throttle.delay_ms(client_ip, now);
    runtime_.submit_to(home, [account, delay, done = std::move(done)]() mutable {
      done(LoginOutcome::kFailed, account, delay);
    });
  });
}

}  // namespace rm
