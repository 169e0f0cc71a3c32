// AccountHub: one shard's access to the mailboxes of the accounts it owns — the MailboxViews
// IMAP and POP3 sessions share, and every change to those mailboxes as a job on the shard's
// blocking lane (RocksDB is never called on the reactor thread) whose result updates the
// views and tells their watchers.
//
// Only the owner shard writes an account (DESIGN §1), and its lane runs jobs one at a time
// in order, so the store's read-modify-write of mailbox counters needs no lock; a session
// lives on its account's owner shard (it moves there after login).
//
//   hub.open(account, "INBOX", [](Result<std::shared_ptr<MailboxView>> view) { ... });
//   hub.change_flags(account, "INBOX", uids, change, [](Result<FlagChangeResult> r) { ... });
//
// Callbacks run on the shard thread, later than the call. A callback is dropped if the hub
// is gone (the shard stopped); callers guard their own lifetime (a shared "alive" flag).
// Thread-safety: the owner shard's thread only.
#pragma once

#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "core/config/options.h"
#include "core/reactor/shard.h"
#include "store/mailbox/mailbox_store.h"
#include "tools/ringmaild/access/mailbox_view.h"

namespace rm {

struct StoredMessage {
  MessageEntry entry;  // with its body location and cached MIME structure
  std::string body;    // empty unless asked for
};

class AccountHub {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;
  using StatusDone = std::function<void(Status)>;

  AccountHub(Shard& shard, Database& db, BodyStore& bodies, const Options& options);
  ~AccountHub();
  AccountHub(const AccountHub&) = delete;
  AccountHub& operator=(const AccountHub&) = delete;

  // Makes sure a new account has its INBOX and the special-use mailboxes (Sent, Drafts,
  // Trash, Junk, Archive). Once per account and process.
  void provision(const std::string& account, StatusDone done);

  // The view of a mailbox, loaded from the store the first time. NotFound when it does not
  // exist.
  void open(const std::string& account, const std::string& name,
            Done<std::shared_ptr<MailboxView>> done);
  // The view if it is loaded, else nullptr.
  std::shared_ptr<MailboxView> loaded(const std::string& account, const std::string& name) const;

  void change_flags(const std::string& account, const std::string& name,
                    std::vector<uint32_t> uids, FlagChange change, Done<FlagChangeResult> done);
  // Removes the messages (EXPUNGE); the result is the new HIGHESTMODSEQ.
  void expunge(const std::string& account, const std::string& name, std::vector<uint32_t> uids,
               Done<uint64_t> done);
  void append(const std::string& account, const std::string& name, std::string body,
              uint8_t flags, std::vector<std::string> keywords, int64_t internal_date_ms,
              Done<std::pair<MessageEntry, uint32_t>> done);
  void copy(const std::string& account, const std::string& from, const std::string& to,
            std::vector<uint32_t> uids, bool move, Done<CopyResult> done);

  // Reads entries (and bodies when `with_bodies`) of these UIDs, in order; missing ones are
  // left out. `with_mime` computes a missing MIME structure with `mime_of` on the lane and
  // keeps it in the store.
  using MimeFunction = std::function<std::string(std::string_view message)>;
  void read(const std::string& account, const std::string& name, std::vector<uint32_t> uids,
            bool with_bodies, MimeFunction mime_of, Done<std::vector<StoredMessage>> done);

  void create(const std::string& account, const std::string& name, uint8_t special_use,
              StatusDone done);
  void remove(const std::string& account, const std::string& name, StatusDone done);
  void rename(const std::string& account, const std::string& from, const std::string& to,
              StatusDone done);
  void list(const std::string& account, Done<std::vector<MailboxListing>> done);
  void subscribe(const std::string& account, const std::string& name, bool on, StatusDone done);
  void subscriptions(const std::string& account, Done<std::vector<std::string>> done);

  // Local delivery wrote these (on this shard): loaded views learn of the new messages.
  void delivered(const std::vector<MailboxDelivery>& deliveries);

  Shard& shard() { return shard_; }

 private:
  using Key = std::pair<std::string, std::string>;  // account, mailbox name

  // Runs `job` on the lane and `then` with its result back on the shard.
  template <typename T>
  void on_lane(std::function<Result<T>()> job, std::function<void(Result<T>)> then);
  void on_lane_status(std::function<Status()> job, StatusDone then);
  // APPENDs are written in groups: those that arrive while a group is on the lane go
  // together in the next one (one fsync for many messages, from any sessions).
  void submit_appends();
  void keep(const Key& key, std::shared_ptr<MailboxView> view);
  // Drops a deleted or renamed mailbox's view (its sessions are told it is gone).
  void forget(const Key& key);
  // Drops the views of `name` and of every mailbox below it ("name/...").
  void forget_tree(const std::string& account, const std::string& name);

  Shard& shard_;
  Database& db_;
  BodyStore& bodies_;
  std::unique_ptr<AppendWriter> append_writer_;  // used by lane jobs only
  struct PendingAppend {
    AppendRequest request;
    Done<std::pair<MessageEntry, uint32_t>> done;
  };
  std::vector<PendingAppend> appends_;
  bool append_in_flight_ = false;
  std::map<Key, std::shared_ptr<MailboxView>> views_;
  std::list<Key> recent_;  // views kept loaded, most recently opened first
  std::map<Key, std::vector<Done<std::shared_ptr<MailboxView>>>> loading_;
  std::set<std::string> provisioned_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rm
