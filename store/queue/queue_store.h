// QueueStore: the durable mail queue of one shard, with group commit.
//
// A session writes a large body while it arrives (append_chunk: unsynced), then commits the
// last chunk and the envelope (commit: synced). The reply "250 queued" may be sent only when
// commit's callback reports OK. Bodies go to the BodyStore's segment files (each chunk's
// place is chosen on the shard at once, so the envelope can list the body's extents), small
// ones with their envelope into the database.
//
// Group commit: writes wait in a pending group; at most one job per store runs on the
// shard's blocking lane. The job takes the whole pending group, writes its body pieces
// (gathered into few pwritev calls), fdatasyncs the segment, then writes every envelope in
// ONE synced WriteBatch (one fsync each for many sessions), and hands the callbacks back to
// the shard. When that completion runs, the writes that accumulated
// meanwhile go out as the next group. When the lane is full (run_blocking refuses), the group
// stays pending and is retried on the next append_chunk/commit/discard or completion.
// Every callback runs exactly once, on the shard thread, never inside the call that queued
// it: OK only after the data is synced, else the write's error. A commit whose earlier chunk
// write failed fails with that error.
//
// Lifetime: the Database and the BodyStore must outlive the Runtime (the lane may still run a job
// after the store is gone). Destroying the store fails the writes still pending with Unavailable; a
// job in flight still completes and runs its callbacks (unless the shard has stopped).
// Thread-safety: a QueueStore belongs to one shard; every member function runs on that
// shard's thread. The counters may be read from any thread. The static helpers block: call
// them on a blocking lane or an admin thread, never on a reactor thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/base/status.h"
#include "core/reactor/shard.h"
#include "store/body/body_allocator.h"
#include "store/body/body_store.h"
#include "store/body/segment_writer.h"
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

  struct Config {
    // Segment files are closed for writing at about this size.
    uint64_t segment_bytes = uint64_t{128} << 20;
    // A body of at most this many bytes that arrives whole (no append_chunk) is written
    // with its envelope in the database: one synced write instead of two.
    uint64_t inline_body_max = 16384;
  };

  QueueStore(Shard& shard, Database& db, BodyStore& bodies, Config config);
  ~QueueStore();
  QueueStore(const QueueStore&) = delete;
  QueueStore& operator=(const QueueStore&) = delete;

  // Queues an unsynced write of the next body chunk of message `id`.
  void append_chunk(QueueId id, std::string bytes);
  // Queues the synced write of the last chunk (may be empty) and the envelope, whose
  // body_extents this fills in (body_bytes must be the size of every chunk together).
  // `done` runs later on this shard: OK once synced, otherwise the error.
  // `inline_allowed` false keeps even a small body in segment files (it will be referenced
  // by mailboxes, which outlive the queue entry). `header_prefix` (header fields decided at
  // the end of the message, such as Authentication-Results) goes in front of the body even
  // when earlier chunks are written already; body_bytes grows by its size.
  void commit(Envelope envelope, std::string last_chunk, Done done, bool inline_allowed = true,
              std::string header_prefix = {});
  // Forgets the chunks of a message that will not be committed (the session ended
  // mid-message) and frees their bytes. What a crash leaves behind, recover removes.
  void discard(QueueId id);

  // Called on this shard with every envelope whose commit succeeded, before the commit's
  // own callback (the queue manager hears of new mail at once, without polling). A body
  // stored with its envelope (small) comes along, so delivery need not read it back;
  // otherwise `inline_body` is null.
  using CommitListener = std::function<void(const Envelope&, const std::string* inline_body)>;
  void set_commit_listener(CommitListener listener) { commit_listener_ = std::move(listener); }

  // No write pending and no job in flight.
  bool idle() const;
  // Body and envelope bytes queued or in flight (for back-pressure).
  uint64_t queued_bytes() const { return queued_bytes_; }
  const QueueStoreCounters& counters() const { return counters_; }

  // ---- blocking helpers (lane / admin thread; never the reactor) ----
  // Every queued envelope, in id order.
  static Result<std::vector<Envelope>> list_queue(Database& db);
  // For a queue manager's start: the messages `owned` selects (judged by id, before any
  // decoding) that are not held, with when each is next due. Unreadable entries are
  // logged and skipped, so one corrupt envelope cannot stop delivery of the rest.
  struct Due {
    QueueId id;
    int64_t next_attempt_unix_ms = 0;
  };
  static Result<std::vector<Due>> list_due(Database& db, const std::function<bool(QueueId)>& owned);
  // NotFound when `id` is not queued.
  static Result<Envelope> load_envelope(Database& db, QueueId id);
  // The body, its extents concatenated and checked (CRC, total size).
  static Result<std::string> read_body(Database& db, BodyStore& bodies, const Envelope& envelope);
  // Deletes the envelope (synced), then frees its body; NotFound when not queued.
  static Status delete_message(Database& db, BodyStore& bodies, QueueId id);
  // The queue manager's group write: envelopes replaced and messages removed (`removed`
  // with their envelopes, to free their bodies), all in one synced batch.
  static Status write_delivery_state(Database& db, BodyStore& bodies,
                                     const std::vector<Envelope>& updated,
                                     const std::vector<Envelope>& removed);
  // Sets Envelope::held (a synced read-modify-write; the caller serialises writers).
  static Status set_held(Database& db, QueueId id, bool held);
  // Counts the references queued messages hold on body segments and lets the BodyStore
  // remove what no message references (a crash mid-message). Run once at start, before any
  // QueueStore writes.
  // `other_refs`: the references other records hold (mailboxes), per segment.
  static Status recover(Database& db, BodyStore& bodies,
                        std::unordered_map<uint64_t, uint64_t> other_refs = {});

  // The writes one lane job carries (defined in the .cc).
  struct Group;

 private:
  void submit();
  void fail_after_chunk_errors(Group& group);
  void on_group_done(const std::shared_ptr<Group>& group);
  void account(const Group& group);
  static void run_group(Database& db, BodyStore& bodies, SegmentWriter& writer, Group& group);
  static void run_callbacks(Group& group);
  void notify_listener(const Group& group) const;

  BodyExtent place(std::string_view bytes);
  // An open (uncommitted) message holds its chunks' segments: a full segment is sealed
  // only when no open message has bytes in it, and always in the same or a later group
  // than the commits that reference it, so it cannot be removed under them.
  void hold_segment(uint64_t segment) { ++open_holds_[segment]; }
  void drop_holds(const std::vector<BodyExtent>& extents);
  void seal_when_free(uint64_t segment);

  Shard& shard_;
  Database& db_;
  BodyStore& bodies_;
  const Config config_;
  BodyAllocator allocator_;
  // Used only by this store's lane jobs, which run one at a time.
  std::shared_ptr<SegmentWriter> writer_;
  // The extents of chunks already placed, per message not yet committed.
  std::unordered_map<uint64_t, std::vector<BodyExtent>> open_bodies_;
  // Per segment: open messages with bytes in it.
  std::unordered_map<uint64_t, uint32_t> open_holds_;
  // Full segments waiting for their open messages before they are sealed.
  std::unordered_set<uint64_t> retiring_;
  std::shared_ptr<Group> pending_;
  bool in_flight_ = false;
  uint64_t queued_bytes_ = 0;
  // Messages whose chunk write failed: their commit must fail too.
  std::unordered_set<uint64_t> failed_chunk_ids_;
  QueueStoreCounters counters_;
  CommitListener commit_listener_;
  // Expires with the store; a completion that outlives it runs its callbacks and stops.
  std::shared_ptr<char> life_ = std::make_shared<char>(0);
};

}  // namespace rm
