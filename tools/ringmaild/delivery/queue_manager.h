// QueueManager: one per shard, for the queued messages that shard owns (ownership.h).
//
// A message is tried as soon as it is queued (the QueueStore's commit listener), then on a
// back-off after temporary failures (retry_policy.h), until every recipient is delivered or
// failed, or its lifetime ends. The schedule lives in memory — per deferred message a heap
// entry and a map entry, well under 300 bytes — and is rebuilt from the store at start
// (load()). Envelopes are kept in memory only while their message is being delivered.
//
// One attempt: the recipients still pending are resolved (address_resolver.h): mailbox
// targets go to the shard owning the account (its MailboxWriter), Maildir and mbox targets to
// this shard's lane, remote targets to the SmtpTransport, one job per destination domain.
// Then each recipient is delivered, failed (5xx) or deferred (4xx); failed
// recipients get a DSN (RFC 3464) to the envelope sender, honouring NOTIFY and RET, never to
// the null sender (and, with queue.delay_warning_ms, deferred ones a delay notice once); the new
// state goes to the store in a group write (one fsync for many messages), the message leaves the
// queue when nothing is left to do. Forwarded copies (a local recipient an alias sends to a
// remote address, or a bounce to one of our SRS addresses) go out with the sender SRS-rewritten
// (srs_policy.h); mail relayed for clients keeps its sender. Thread-safety: every member function
// runs on the owning shard's thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/config/options.h"
#include "core/reactor/shard.h"
#include "proto/dsn/dsn_builder.h"
#include "store/account/directory.h"
#include "store/body/body_store.h"
#include "store/db/database.h"
#include "store/queue/queue_store.h"
#include "tools/ringmaild/delivery/mailbox_writer.h"
#include "tools/ringmaild/delivery/retry_policy.h"
#include "tools/ringmaild/delivery/retry_schedule.h"
#include "tools/ringmaild/delivery/smtp_transport.h"
#include "tools/ringmaild/delivery/srs_policy.h"
#include "tools/ringmaild/mail_auth/dkim_sign.h"

namespace rm {

// What the queue managers of every shard share (all outlive them).
struct DeliveryEnv {
  const Options* options = nullptr;
  Database* db = nullptr;
  BodyStore* bodies = nullptr;
  // The calling shard's current directory snapshot, queue store, id generator and mailbox
  // writer.
  std::function<const Directory&(Shard&)> directory;
  std::function<QueueStore&(Shard&)> queue;
  std::function<QueueId(Shard&)> next_queue_id;
  std::function<MailboxWriter&(Shard&)> mailbox_writer;
  std::function<SmtpTransport&(Shard&)> transport;
  const SrsPolicy* srs = nullptr;  // null: SRS off
  // The DKIM keys outbound mail is signed with (null: no signing).
  const DkimKeyring* dkim_keys = nullptr;
};

// Relaxed atomics, summed over shards for `ringmail status` and tests.
struct QueueManagerCounters {
  std::atomic<uint64_t> attempts{0};
  std::atomic<uint64_t> delivered{0};  // recipients
  std::atomic<uint64_t> deferred{0};   // recipient attempts that failed temporarily
  std::atomic<uint64_t> failed{0};     // recipients that failed for good
  std::atomic<uint64_t> bounces{0};    // DSNs queued
  std::atomic<uint64_t> scheduled{0};  // messages waiting for a retry (a gauge)
};

class QueueManager {
 public:
  QueueManager(Shard& shard, DeliveryEnv env);
  ~QueueManager();
  QueueManager(const QueueManager&) = delete;
  QueueManager& operator=(const QueueManager&) = delete;

  // Reads this shard's messages from the store (on the lane) and schedules them.
  void load();
  // A message this shard just queued: tried at once. `inline_body`, when given, is its body
  // (saves reading it back).
  void enqueue(const Envelope& envelope, const std::string* inline_body);
  // Tries `id` (or every scheduled message) now.
  void flush(std::optional<QueueId> id);

  const QueueManagerCounters& counters() const { return counters_; }

 private:
  struct Attempt;
  struct StateWrite {
    Envelope envelope;
    bool remove = false;
    std::function<void(Status)> done;
  };

  void schedule(uint64_t id, int64_t at_unix_ms);
  void arm_timer();
  void on_timer();
  void pump();
  void start(uint64_t id);
  void begin(const std::shared_ptr<Attempt>& att);
  void dispatch(const std::shared_ptr<Attempt>& att);
  void deliver_mailboxes(const std::shared_ptr<Attempt>& att);
  void deliver_files(const std::shared_ptr<Attempt>& att);
  // Signs (on the lane) when the From or sender domain has DKIM keys, then relays.
  void deliver_remote(const std::shared_ptr<Attempt>& att);
  void relay(const std::shared_ptr<Attempt>& att, std::shared_ptr<const std::string> body);
  void leg_done(const std::shared_ptr<Attempt>& att);
  void finish(const std::shared_ptr<Attempt>& att);
  struct Report {
    size_t recipient;
    dsn::Action action;
  };
  void queue_report(const std::shared_ptr<Attempt>& att, std::vector<Report> reports);
  bool delay_warning_due(const Envelope& env) const;
  void record(const std::shared_ptr<Attempt>& att);
  void end(uint64_t id);
  void write_state(StateWrite write);
  void submit_state_writes();
  // Runs `job` on this shard's lane, then `done` here; retries while the lane is full.
  void on_lane(std::function<void()> job, std::function<void()> done);

  Shard& shard_;
  const DeliveryEnv env_;
  const RetryPolicy retry_;
  RetrySchedule schedule_;  // deferred messages: id -> when
  std::deque<uint64_t> ready_;
  struct Fresh {
    Envelope envelope;
    std::optional<std::string> body;
  };
  std::unordered_map<uint64_t, Fresh> fresh_;  // just queued, not started yet
  std::unordered_map<uint64_t, std::shared_ptr<Attempt>> active_;
  uint64_t timer_ = 0;
  int64_t timer_at_unix_ms_ = 0;
  std::vector<StateWrite> state_writes_;
  bool state_write_in_flight_ = false;
  QueueManagerCounters counters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace rm
