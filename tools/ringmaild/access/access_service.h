// AccessService: what IMAP and POP3 sessions share — login (Argon2id on the blocking lane
// of the account's owner shard, whose login cache skips it for a recent success; failed
// attempts throttled per client IP like SMTP AUTH), the shard that owns an account
// (a session moves there after login: Connection::move_to_shard), each shard's AccountHub,
// and the TLS context.
//
// SECURITY: the access ports face the Internet. Passwords are accepted only over TLS unless
// access.plaintext_auth_allowed; unknown users cost as much as wrong passwords; failures
// are throttled per client IP on one shard (SmtpService's throttle: one count for SMTP,
// IMAP and POP3 guessing).
// Thread-safety: hub() and login() on shard threads; each hub is its shard's own.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config/options.h"
#include "core/reactor/listener.h"
#include "store/body/body_store.h"
#include "store/db/database.h"
#include "tls/tls_context.h"
#include "tools/ringmaild/access/account_hub.h"
#include "tools/ringmaild/access/login_cache.h"

namespace rm {

class Runtime;
class SmtpService;

enum class LoginOutcome : uint8_t {
  kOk,
  kFailed,     // wrong user or password
  kRefused,    // this client failed too often: close
  kTemporary,  // the lane is busy: try again
};

class AccessService {
 public:
  AccessService(const Options& options, Runtime& runtime, Database& db, BodyStore& bodies,
                SmtpService& smtp, std::shared_ptr<TlsContext> tls);
  ~AccessService();

  HandlerFactory imap_factory(bool implicit_tls);
  HandlerFactory pop3_factory(bool implicit_tls);

  const Options& options() const { return options_; }
  const std::shared_ptr<TlsContext>& tls() const { return tls_; }
  Runtime& runtime() { return runtime_; }

  // The hub of the calling shard (made on first use).
  AccountHub& hub(Shard& shard);
  int owner_of(const std::string& account) const;

  // Checks `user`'s password (lower-cased: the account). `done` runs later on `shard` with
  // the outcome, the account and, for a failure, how long to hold the answer (tarpit).
  using LoginDone = std::function<void(LoginOutcome, const std::string& account, uint32_t delay_ms)>;
  void login(Shard& shard, const std::string& client_ip, const std::string& user,
             const std::string& password, LoginDone done);

  // Local delivery wrote these on `shard` (its accounts): their loaded views learn of them.
  void delivered(Shard& shard, const std::vector<MailboxDelivery>& deliveries);

 private:
  void verify_on_lane(Shard& shard, const std::string& client_ip, const std::string& account,
                      const std::string& password, LoginDone done);
  void report_failure(Shard& shard, const std::string& client_ip, const std::string& account,
                      LoginDone done);

  const Options& options_;
  Runtime& runtime_;
  Database& db_;
  BodyStore& bodies_;
  SmtpService& smtp_;
  std::shared_ptr<TlsContext> tls_;
  std::vector<std::unique_ptr<AccountHub>> hubs_;  // [i]: made and used by shard i only
  // [i]: shard i's, for the accounts it owns (logins are verified on the owner shard)
  std::vector<std::unique_ptr<LoginCache>> login_caches_;
};

}  // namespace rm
