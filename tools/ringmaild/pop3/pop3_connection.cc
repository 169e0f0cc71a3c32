#include "tools/ringmaild/pop3/pop3_connection.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/reactor/shard.h"
#include "proto/pop3/session.h"
#include "tls/tls_filter.h"
#include "tools/ringmaild/access/access_service.h"

namespace rm {
namespace {

// RETR/TOP read the wanted message and some of the next ones in one lane job. The first
// read of a run takes a few; each read that continues the run takes twice as many as the
// last, up to the message and byte limits (a client that retrieves the whole maildrop
// costs few lane jobs; one that reads a single message, little wasted reading).
constexpr size_t kReadAheadFirstMessages = 8;
constexpr size_t kReadAheadMessages = 256;
constexpr uint64_t kReadAheadBytes = 512 << 10;

class Pop3Connection final : public ConnectionHandler {
 public:
  Pop3Connection(AccessService& service, bool implicit_tls, Connection& conn)
      : service_(service), conn_(&conn), shard_(&conn.shard()), implicit_tls_(implicit_tls),
        session_(session_options(service, implicit_tls)) {}

  ~Pop3Connection() override { *alive_ = false; }

  void on_open(Connection& conn) override {
    if (implicit_tls_) conn.start_filter(std::make_unique<TlsFilter>(service_.tls()));
    session_.on_connect();
    flush();
    conn.set_deadline_in(service_.options().access.pop3_timeout_ms);
  }

  size_t on_data(Connection& conn, std::string_view input) override {
    conn_ = &conn;
    if (busy_ || session_.waiting()) return 0;
    const size_t used = session_.feed(input);
    conn.set_deadline_in(service_.options().access.pop3_timeout_ms);
    flush();
    run_actions();
    return used;
  }

  void on_moved(Connection& conn) override {
    conn_ = &conn;
    shard_ = &conn.shard();
    open_maildrop();
  }

  void on_deadline(Connection& conn) override {
    session_.on_timeout();
    flush();
    conn.close_after_flush();
  }

  void on_shutdown(Connection& conn) override {
    session_.on_shutdown();
    flush();
    conn.close_after_flush();
  }

 private:
  static pop3::Pop3Options session_options(AccessService& service, bool implicit_tls) {
    pop3::Pop3Options o;
    o.hostname = service.options().server.hostname;
    o.tls_available = service.tls() != nullptr;
    o.tls_active = implicit_tls;
    o.plaintext_auth_allowed = service.options().access.plaintext_auth_allowed;
    return o;
  }

  void flush() {
    if (session_.has_output()) conn_->write(session_.take_output());
  }

  // An asynchronous step answered the session: send, act again, read on.
  void resume() {
    busy_ = false;
    flush();
    run_actions();
    if (conn_->open() && !busy_) conn_->resume_input();
  }

  void run_actions() {
    while (!busy_) {
      std::optional<pop3::Pop3Action> action = session_.next_action();
      if (!action) break;
      switch (action->kind) {
        case pop3::Pop3ActionKind::kAuthenticate:
          authenticate(action->user, action->password);
          break;
        case pop3::Pop3ActionKind::kStartTls:
          flush();
          conn_->start_filter(std::make_unique<TlsFilter>(service_.tls()));
          session_.on_tls_started();
          flush();
          break;
        case pop3::Pop3ActionKind::kFetchMessage:
          fetch(action->message_number);
          break;
        case pop3::Pop3ActionKind::kUpdate:
          update(action->deleted);
          break;
        case pop3::Pop3ActionKind::kClose:
          flush();
          conn_->close_after_flush();
          return;
      }
    }
    flush();  // answers given without waiting (a message read ahead)
  }

  std::string client_ip() const {
    const std::string& peer = conn_->peer();
    if (!peer.empty() && peer[0] == '[') return peer.substr(1, peer.find(']') - 1);
    return peer.substr(0, peer.rfind(':'));
  }

  void authenticate(const std::string& user, const std::string& password) {
    busy_ = true;
    service_.login(*shard_, client_ip(), user, password,
                   [this, alive = alive_](LoginOutcome outcome, const std::string& account,
                                          uint32_t delay_ms) {
                     if (!*alive) return;
                     if (outcome == LoginOutcome::kOk) {
                       logged_in(account);
                       return;
                     }
                     const pop3::Pop3AuthResult result =
                         outcome == LoginOutcome::kTemporary ? pop3::Pop3AuthResult::kTemporaryFailure
                                                             : pop3::Pop3AuthResult::kFailed;
                     if (outcome == LoginOutcome::kRefused) {
                       conn_->write("-ERR [AUTH] Too many failed logins\r\n");
                       conn_->close_after_flush();
                       return;
                     }
                     if (delay_ms == 0) {
                       session_.on_auth_result(result);
                       resume();
                       return;
                     }
                     shard_->start_timer(monotonic_ms() + delay_ms, [this, alive, result] {
                       if (!*alive) return;
                       session_.on_auth_result(result);
                       resume();
                     });
                   });
  }

  void logged_in(const std::string& account) {
    account_ = account;
    RM_LOG(kInfo, "pop3_login").kv("conn", conn_->id()).kv("user", account);
    const int owner = service_.owner_of(account);
    if (owner != shard_->index()) {
      conn_->move_to_shard(owner);  // on_moved() goes on there
      return;
    }
    open_maildrop();
  }

  void open_maildrop() {
    AccountHub& hub = service_.hub(*shard_);
    hub.provision(account_, [this, alive = alive_, &hub](Status) {
      if (!*alive) return;
      hub.open(account_, std::string(kInbox),
               [this, alive](Result<std::shared_ptr<MailboxView>> view) {
                 if (!*alive) return;
                 if (!view.ok()) {
                   session_.on_auth_result(pop3::Pop3AuthResult::kTemporaryFailure);
                   resume();
                   return;
                 }
                 std::vector<pop3::Pop3MessageInfo> listing;
                 const std::string prefix = std::to_string((*view)->uidvalidity()) + "-";
                 uids_.clear();
                 sizes_.clear();
                 for (const MessageMeta& m : (*view)->messages()) {
                   listing.push_back({m.size, prefix + std::to_string(m.uid)});
                   uids_.push_back(m.uid);
                   sizes_.push_back(m.size);
                 }
                 session_.on_auth_result(pop3::Pop3AuthResult::kOk, std::move(listing));
                 resume();
               });
    });
  }

  // RETR/TOP: from the read-ahead when it has the message, else one lane job reads it and
  // the next few (clients retrieve in order, one command at a time: this saves a lane
  // round trip per message).
  void fetch(uint32_t number) {
    if (number == 0 || number > uids_.size()) {
      session_.on_message_failed(pop3::Pop3FetchError::kGone);
      return;
    }
    const uint32_t uid = uids_[number - 1];
    if (auto it = ahead_.find(uid); it != ahead_.end()) {
      const std::string body = std::move(it->second);
      ahead_bytes_ -= body.size();
      ahead_.erase(it);
      session_.on_message(body);
      return;
    }
    ahead_.clear();
    ahead_bytes_ = 0;
    // Doubles while the client goes on where the last read ended.
    read_ahead_ = number - 1 == ahead_end_ ? std::min(read_ahead_ * 2, kReadAheadMessages)
                                           : kReadAheadFirstMessages;
    std::vector<uint32_t> wanted;
    uint64_t bytes = 0;
    size_t i = number - 1;
    for (; i < uids_.size() && wanted.size() < read_ahead_; ++i) {
      const uint64_t size = i < sizes_.size() ? sizes_[i] : 0;
      if (!wanted.empty() && bytes + size > kReadAheadBytes) break;
      wanted.push_back(uids_[i]);
      bytes += size;
    }
    ahead_end_ = i;
    busy_ = true;
    service_.hub(*shard_).read(
        account_, std::string(kInbox), std::move(wanted), true, nullptr,
        [this, alive = alive_, uid](Result<std::vector<StoredMessage>> r) {
          if (!*alive) return;
          if (!r.ok()) {
            session_.on_message_failed(pop3::Pop3FetchError::kTemporary);
            resume();
            return;
          }
          bool found = false;
          for (StoredMessage& m : *r) {
            if (m.entry.uid == uid) {
              session_.on_message(m.body);
              found = true;
            } else {
              ahead_bytes_ += m.body.size();
              ahead_.emplace(m.entry.uid, std::move(m.body));
            }
          }
          if (!found) session_.on_message_failed(pop3::Pop3FetchError::kGone);
          resume();
        });
  }

  void update(const std::vector<uint32_t>& numbers) {
    std::vector<uint32_t> gone;
    for (uint32_t n : numbers) {
      if (n >= 1 && n <= uids_.size()) gone.push_back(uids_[n - 1]);
    }
    busy_ = true;
    service_.hub(*shard_).expunge(account_, std::string(kInbox), std::move(gone),
                                  [this, alive = alive_](Result<uint64_t> r) {
                                    if (!*alive) return;
                                    session_.on_update_done(r.ok());
                                    resume();
                                  });
  }

  AccessService& service_;
  Connection* conn_;
  Shard* shard_;
  const bool implicit_tls_;
  pop3::Pop3Session session_;
  bool busy_ = false;
  std::string account_;
  std::vector<uint32_t> uids_;  // the maildrop: message number - 1 -> UID
  std::vector<uint64_t> sizes_;
  std::unordered_map<uint32_t, std::string> ahead_;  // UID -> message read ahead
  uint64_t ahead_bytes_ = 0;
  size_t read_ahead_ = kReadAheadFirstMessages;  // messages the last read asked for
  size_t ahead_end_ = SIZE_MAX;                  // index in uids_ after the last read's messages
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace

std::unique_ptr<ConnectionHandler> make_pop3_connection(AccessService& service, bool implicit_tls,
                                                        Connection& conn) {
  return std::make_unique<Pop3Connection>(service, implicit_tls, conn);
}

}  // namespace rm
