// MailboxWriter: the writes to the mailboxes of the accounts a shard owns, with group
// commit: deliveries that arrive while a write is on the lane go out together in the next
// one (one fsync for many messages). Only the owner shard writes an account, so the
// mailbox counters need no lock (DESIGN §1).
// Thread-safety: one per shard; every member function runs on that shard's thread.
// Lifetime: the Database and BodyStore outlive the Runtime; a write in flight when the
// writer goes still completes, and its callbacks are dropped.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/reactor/shard.h"
#include "store/mailbox/mailbox_store.h"

namespace rm {

class MailboxWriter {
 public:
  // Gets the deliveries back with status, UIDVALIDITY and UID filled in, on this shard.
  using Done = std::function<void(std::vector<MailboxDelivery>)>;

  MailboxWriter(Shard& shard, Database& db, BodyStore& bodies)
      : shard_(shard), db_(db), bodies_(bodies) {}
  ~MailboxWriter() { *alive_ = false; }
  MailboxWriter(const MailboxWriter&) = delete;
  MailboxWriter& operator=(const MailboxWriter&) = delete;

  void deliver(std::vector<MailboxDelivery> deliveries, Done done);

  // Told of every written batch (on this shard) before its callback: how IMAP and POP3
  // sessions learn of new mail.
  using Observer = std::function<void(const std::vector<MailboxDelivery>&)>;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  struct Batch {
    std::vector<MailboxDelivery> deliveries;
    Done done;
  };

  void submit();

  Shard& shard_;
  Database& db_;
  BodyStore& bodies_;
  std::vector<Batch> pending_;
  bool in_flight_ = false;
  Observer observer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rm
