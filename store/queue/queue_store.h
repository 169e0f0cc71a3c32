// QueueStore: the durable mail queue of one shard, with group commit.
//
// A session writes a large body while it arrives (append_chunk: unsynced), then commits the
// last chunk and the envelope (commit: synced). The reply "250 queued" may be sent only when
// commit's callback reports OK.
//
// Group commit: writes wait in a pending group; at most one job per store runs on the
// shard's blocking lane. The job takes the whole pending group, writes its chunks unsynced,
// then every commit in ONE synced WriteBatch (one fsync for many sessions), and hands the
// callbacks back to the shard. When that completion runs, the writes that accumulated
// meanwhile go out as the next group. When the lane is full (run_blocking refuses), the group
// stays pending and is retried on the next append_chunk/commit/discard or completion.
// Every callback runs exactly once, on the shard thread, never inside the call that queued
// it: OK only after the data is synced, else the write's error. A commit whose earlier chunk
// write failed fails with that error.
//
// Lifetime: the Database must outlive the Runtime (the lane may still run a job after the
// store is gone). Destroying the store fails the writes still pending with Unavailable; a job
// in flight still completes and runs its callbacks (unless the shard has stopped).
// Thread-safety: a QueueStore belongs to one shard; every member function runs on that
// shard's thread. The counters may be read from any thread. The static helpers block: call
// them on a blocking lane or an admin thread, never on a reactor thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/base/status.h"
#include "core/reactor/shard.h"
#include "store/db/database.h"
#include "store/queue/envelope.h"
#include "store/queue/queue_id.h"

namespace rm {

// Relaxed atomics: a snapshot for tests and the control socket.
struct QueueStoreCounters {
  std::atomic<uint64_t> commits{0};    // commits durably written (callback got OK)
  std::atomic<uint64_t> failures{0};   // commits whose callback got an error
  std::atomic<uint64_t> fsyncs{0};     // synced group writes (one per group with commits)
  std::atomic<uint64_t> chunks{0};     // body chunks written unsynced
  std::atomic<uint64_t> jobs{0};       // lane jobs completed
  std::atomic<uint64_t> lane_full{0};  // submissions the lane refused (retried later)
};

class QueueStore {
 public:
  using Done = std::function<void(Status)>;

  QueueStore(Shard& shard, Database& db);
  ~QueueStore();
  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  // Queues an unsynced write of body chunk `index` of message `id`.
  void append_chunk(QueueId id, uint32_t index, std::string bytes);
  // Queues the synced write of the last chunk (index envelope.body_chunks - 1; none when
  // body_chunks is 0, and then `last_chunk` must be empty) and the envelope. `done` runs
  // later on this shard: OK once synced, otherwise the error.
  void commit(Envelope envelope, std::string last_chunk, Done done);
  // Queues an unsynced delete of chunks [0, chunks) of a message that will not be committed
  // (the session ended mid-message). What a crash leaves behind, remove_orphan_chunks removes.
  void discard(QueueId id, uint32_t chunks);

  // No write pending and no job in flight.
  bool idle() const;
  // Body and envelope bytes queued or in flight (for back-pressure).
  uint64_t queued_bytes() const { return queued_bytes_; }
  const QueueStoreCounters& counters() const { return counters_; }

  // ---- blocking helpers (lane / admin thread; never the reactor) ----
  // Every queued envelope, in id order.
  static Result<std::vector<Envelope>> list_queue(Database& db);
  // NotFound when `id` is not queued.
  static Result<Envelope> load_envelope(Database& db, QueueId id);
  // The body, its chunks concatenated; checks the chunk count and the total size.
  static Result<std::string> read_body(Database& db, const Envelope& envelope);
  // Deletes the envelope and every chunk in one synced batch; NotFound when not queued.
  static Status delete_message(Database& db, QueueId id);
  // Sets Envelope::held (a synced read-modify-write; the caller serialises writers).
  static Status set_held(Database& db, QueueId id, bool held);
  // Deletes the chunks whose envelope does not exist (a crash mid-message). Run at start,
  // before any QueueStore writes.
  static Status remove_orphan_chunks(Database& db);

 private:
  struct Group;

  void submit();
  void fail_after_chunk_errors(Group& group);
  void on_group_done(const std::shared_ptr<Group>& group);
  void account(const Group& group);
  static void run_group(Database& db, Group& group);
  static void run_callbacks(Group& group);

  Shard& shard_;
  Database& db_;
  std::shared_ptr<Group> pending_;
  bool in_flight_ = false;
  uint64_t queued_bytes_ = 0;
  // Messages whose chunk write failed: their commit must fail too.
  std::unordered_set<uint64_t> failed_chunk_ids_;
  QueueStoreCounters counters_;
  // Expires with the store; a completion that outlives it runs its callbacks and stops.
  std::shared_ptr<char> life_ = std::make_shared<char>(0);
};

}  // namespace rm
