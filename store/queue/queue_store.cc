// QueueStore: group commit on the shard side and the lane side.
// Thread-safety: as queue_store.h says. A Group is filled on the shard, handed whole to the
// lane job (the shard keeps no access), then handed back whole to the shard's completion.
#include "store/queue/queue_store.h"

#include <rocksdb/write_batch.h>

#include <optional>
#include <utility>

#include "core/base/log.h"
#include "store/queue/queue_keys.h"

namespace rm {

namespace {

struct PendingChunk {
  QueueId id;
  uint32_t index = 0;
  std::string bytes;
};

struct PendingDiscard {
  QueueId id;
  uint32_t chunks = 0;
};

struct PendingCommit {
  Envelope envelope;
  std::string last_chunk;
  QueueStore::Done done;
  Status status;         // preset to an error when the commit cannot be written
  bool written = false;  // part of the synced batch
};

rocksdb::Slice slice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

Status check_commit(const Envelope& envelope, const std::string& last_chunk) {
  if (envelope.body_chunks == 0 && !last_chunk.empty()) {
    return Status::InvalidArgument("a body chunk was given for a message with body_chunks 0");
  }
  return validate_envelope(envelope);
}

}  // namespace

struct QueueStore::Group {
  std::vector<PendingChunk> chunks;
  std::vector<PendingDiscard> discards;
  std::vector<PendingCommit> commits;
  uint64_t bytes = 0;
  // Filled by the job.
  std::unordered_set<uint64_t> failed_chunk_ids;
  uint64_t chunks_written = 0;
  bool synced = false;

  bool empty() const { return chunks.empty() && discards.empty() && commits.empty(); }
};

namespace {

// The unsynced part: body chunks and discards. Returns the write's status.
Status write_chunks(Database& db, std::vector<PendingChunk>& chunks,
                    const std::vector<PendingDiscard>& discards) {
  if (chunks.empty() && discards.empty()) {
    return Status::Ok();
  }
  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* blob = db.handle(Family::kBlob);
  for (const PendingChunk& chunk : chunks) {
    batch.Put(blob, queue_keys::chunk_key(chunk.id, chunk.index), slice(chunk.bytes));
  }
  for (const PendingDiscard& discard : discards) {
    for (uint32_t i = 0; i < discard.chunks; ++i) {
      batch.Delete(blob, queue_keys::chunk_key(discard.id, i));
    }
  }
  return db.write(batch, false);
}

void add_commit(Database& db, rocksdb::WriteBatch& batch, const PendingCommit& commit) {
  const Envelope& e = commit.envelope;
  if (e.body_chunks > 0) {
    batch.Put(db.handle(Family::kBlob), queue_keys::chunk_key(e.id, e.body_chunks - 1),
              slice(commit.last_chunk));
  }
  batch.Put(db.handle(Family::kQueue), queue_keys::envelope_key(e.id), encode_envelope(e));
}

// The synced part: every writable commit in one batch. Returns whether a write happened.
bool write_commits(Database& db, std::vector<PendingCommit>& commits,
                   const std::unordered_set<uint64_t>& failed_chunk_ids,
                   const Status& chunk_status) {
  rocksdb::WriteBatch batch;
  bool any = false;
  for (PendingCommit& commit : commits) {
    if (!commit.status.ok()) {
      continue;
    }
    if (failed_chunk_ids.count(commit.envelope.id.value) > 0) {
      commit.status = chunk_status;
      continue;
    }
    add_commit(db, batch, commit);
    commit.written = any = true;
  }
  if (!any) {
    return false;
  }
  const Status status = db.write(batch, true);
  for (PendingCommit& commit : commits) {
    if (commit.written) {
      commit.status = status;
    }
  }
  return true;
}

}  // namespace

QueueStore::QueueStore(Shard& shard, Database& db)
    : shard_(shard), db_(db), pending_(std::make_shared<Group>()) {}

QueueStore::~QueueStore() {
  life_.reset();
  for (PendingCommit& commit : pending_->commits) {
    if (commit.status.ok()) {
      commit.status = Status::Unavailable("queue store closed before the write");
    }
  }
  run_callbacks(*pending_);
}

void QueueStore::append_chunk(QueueId id, uint32_t index, std::string bytes) {
  pending_->bytes += bytes.size();
  queued_bytes_ += bytes.size();
  pending_->chunks.push_back(PendingChunk{id, index, std::move(bytes)});
  submit();
}

void QueueStore::commit(Envelope envelope, std::string last_chunk, Done done) {
  RM_ASSERT(done);
  const uint64_t bytes = last_chunk.size() + 256;  // the envelope, roughly
  pending_->bytes += bytes;
  queued_bytes_ += bytes;
  Status status = check_commit(envelope, last_chunk);
  pending_->commits.push_back(PendingCommit{std::move(envelope), std::move(last_chunk),
                                            std::move(done), std::move(status)});
  submit();
}

void QueueStore::discard(QueueId id, uint32_t chunks) {
  failed_chunk_ids_.erase(id.value);
  if (chunks > 0) {
    pending_->discards.push_back(PendingDiscard{id, chunks});
    submit();
  }
}

bool QueueStore::idle() const {
  return !in_flight_ && pending_->empty();
}

void QueueStore::submit() {
  if (in_flight_ || pending_->empty()) {
    return;
  }
  fail_after_chunk_errors(*pending_);
  std::shared_ptr<Group> group = pending_;
  Status status = shard_.run_blocking(
      [&db = db_, &shard = shard_, store = this, life = std::weak_ptr<char>(life_), group] {
        run_group(db, *group);
        shard.complete_from_lane([store, life, group] {
          if (life.expired()) {
            run_callbacks(*group);  // the store is gone; its callers still get their answer
            return;
          }
          store->on_group_done(group);
        });
      });
  if (!status.ok()) {
    counters_.lane_full.fetch_add(1, std::memory_order_relaxed);
    return;  // the group stays pending: retried on the next write or completion
  }
  pending_ = std::make_shared<Group>();
  in_flight_ = true;
}

void QueueStore::fail_after_chunk_errors(Group& group) {
  if (failed_chunk_ids_.empty()) {
    return;
  }
  for (PendingCommit& commit : group.commits) {
    if (commit.status.ok() && failed_chunk_ids_.erase(commit.envelope.id.value) > 0) {
      commit.status = Status::IoError("an earlier body chunk of this message was not written");
    }
  }
}

void QueueStore::run_group(Database& db, Group& group) {
  const Status chunk_status = write_chunks(db, group.chunks, group.discards);
  if (chunk_status.ok()) {
    group.chunks_written = group.chunks.size();
  } else {
    for (const PendingChunk& chunk : group.chunks) {
      group.failed_chunk_ids.insert(chunk.id.value);
    }
  }
  group.synced = write_commits(db, group.commits, group.failed_chunk_ids, chunk_status);
  // Free the bodies now rather than after the callbacks.
  group.chunks = {};
  for (PendingCommit& commit : group.commits) {
    commit.last_chunk = {};
  }
}

void QueueStore::on_group_done(const std::shared_ptr<Group>& group) {
  account(*group);
  const std::weak_ptr<char> life = life_;
  run_callbacks(*group);  // may queue more writes (kept pending: in_flight_ is still set)
  if (life.expired()) {
    return;  // a callback destroyed the store
  }
  in_flight_ = false;
  submit();
}

void QueueStore::account(const Group& group) {
  queued_bytes_ -= group.bytes;
  counters_.jobs.fetch_add(1, std::memory_order_relaxed);
  counters_.chunks.fetch_add(group.chunks_written, std::memory_order_relaxed);
  counters_.fsyncs.fetch_add(group.synced ? 1 : 0, std::memory_order_relaxed);
  failed_chunk_ids_.insert(group.failed_chunk_ids.begin(), group.failed_chunk_ids.end());
  for (const PendingCommit& commit : group.commits) {
    failed_chunk_ids_.erase(commit.envelope.id.value);
    auto& counter = commit.status.ok() ? counters_.commits : counters_.failures;
    counter.fetch_add(1, std::memory_order_relaxed);
  }
  for (const PendingDiscard& discard : group.discards) {
    failed_chunk_ids_.erase(discard.id.value);
  }
}

void QueueStore::run_callbacks(Group& group) {
  for (PendingCommit& commit : group.commits) {
    Done done = std::move(commit.done);
    done(std::move(commit.status));
  }
  group.commits.clear();
}

// ---- blocking helpers ----

namespace {

// Point deletes up to this many chunks; a range delete beyond (or for a corrupt envelope).
constexpr uint32_t kPointDeleteChunksMax = 4096;

// The end of the key range of every chunk of the message whose key is `prefix`.
std::string chunks_end(const std::string& prefix) {
  std::string end = prefix_successor(prefix);
  return end.empty() ? std::string(queue_keys::kChunkKeySize + 1, '\xff') : end;
}

Status corrupt_body(const Envelope& envelope, const std::string& what) {
  return Status::Internal("corrupt body of " + envelope.id.text() + ": " + what);
}

Result<Envelope> decode_entry(QueueId id, std::string_view bytes) {
  Result<Envelope> envelope = decode_envelope(bytes);
  if (!envelope.ok()) {
    return Status::InvalidArgument("queue entry " + id.text() + ": " +
                                   std::string(envelope.status().message()));
  }
  if (envelope->id != id) {
    return Status::InvalidArgument("queue entry " + id.text() + ": corrupt envelope: id " +
                                   envelope->id.text() + " does not match its key");
  }
  return envelope;
}

void delete_chunks(Database& db, rocksdb::WriteBatch& batch, QueueId id,
                   const Result<Envelope>& envelope) {
  rocksdb::ColumnFamilyHandle* blob = db.handle(Family::kBlob);
  if (envelope.ok() && envelope->body_chunks <= kPointDeleteChunksMax) {
    for (uint32_t i = 0; i < envelope->body_chunks; ++i) {
      batch.Delete(blob, queue_keys::chunk_key(id, i));
    }
    return;
  }
  const std::string prefix = queue_keys::chunk_prefix(id);
  batch.DeleteRange(blob, prefix, chunks_end(prefix));
}

// Queues the deletion of every blob key that starts like `key` (8 bytes) when no envelope
// has that id. Returns the key to continue after, or "" when none follows.
Result<std::string> check_chunks_of(Database& db, rocksdb::WriteBatch& batch, std::string_view key,
                                    size_t& orphans) {
  const std::string prefix(key.substr(0, queue_keys::kEnvelopeKeySize));
  Result<std::optional<std::string>> envelope = db.get(Family::kQueue, prefix);
  if (!envelope.ok()) {
    return envelope.status();
  }
  if (!envelope->has_value()) {
    ++orphans;
    batch.DeleteRange(db.handle(Family::kBlob), prefix, chunks_end(prefix));
  }
  return prefix_successor(prefix);
}

}  // namespace

Result<std::vector<Envelope>> QueueStore::list_queue(Database& db) {
  std::vector<Envelope> out;
  Status failure;
  const Status status =
      db.scan(Family::kQueue, "", "", [&](std::string_view key, std::string_view value) {
        const std::optional<QueueId> id = queue_id_from_key(key);
        Result<Envelope> envelope =
            (id && key.size() == queue_keys::kEnvelopeKeySize)
                ? decode_entry(*id, value)
                : Result<Envelope>(Status::InvalidArgument("queue key of bad size"));
        if (!envelope.ok()) {
          failure = envelope.status();
          return false;
        }
        out.push_back(std::move(envelope).value());
        return true;
      });
  RM_RETURN_IF_ERROR(status);
  RM_RETURN_IF_ERROR(failure);
  return out;
}

Result<Envelope> QueueStore::load_envelope(Database& db, QueueId id) {
  Result<std::optional<std::string>> bytes = db.get(Family::kQueue, queue_keys::envelope_key(id));
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (!bytes->has_value()) {
    return Status::NotFound("no queued message " + id.text());
  }
  return decode_entry(id, **bytes);
}

Result<std::string> QueueStore::read_body(Database& db, const Envelope& envelope) {
  std::string body;
  uint64_t chunks = 0;
  Status failure;
  const Status status = db.scan_prefix(
      Family::kBlob, queue_keys::chunk_prefix(envelope.id),
      [&](std::string_view key, std::string_view value) {
        if (queue_keys::chunk_index(key) != chunks) {
          failure = corrupt_body(envelope, "chunk " + std::to_string(chunks) + " is missing");
        } else if (body.size() + value.size() > envelope.body_bytes) {
          failure = corrupt_body(envelope, "longer than body_bytes");
        } else {
          body.append(value);
          ++chunks;
        }
        return failure.ok();
      });
  RM_RETURN_IF_ERROR(status);
  RM_RETURN_IF_ERROR(failure);
  if (chunks != envelope.body_chunks || body.size() != envelope.body_bytes) {
    return corrupt_body(envelope, std::to_string(chunks) + " chunks, " +
                                      std::to_string(body.size()) + " bytes; the envelope says " +
                                      std::to_string(envelope.body_chunks) + " chunks, " +
                                      std::to_string(envelope.body_bytes) + " bytes");
  }
  return body;
}

Status QueueStore::delete_message(Database& db, QueueId id) {
  Result<std::optional<std::string>> bytes = db.get(Family::kQueue, queue_keys::envelope_key(id));
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (!bytes->has_value()) {
    return Status::NotFound("no queued message " + id.text());
  }
  rocksdb::WriteBatch batch;
  delete_chunks(db, batch, id, decode_entry(id, **bytes));
  batch.Delete(db.handle(Family::kQueue), queue_keys::envelope_key(id));
  return db.write(batch, true);
}

Status QueueStore::set_held(Database& db, QueueId id, bool held) {
  Result<Envelope> envelope = load_envelope(db, id);
  if (!envelope.ok()) {
    return envelope.status();
  }
  envelope->held = held;
  rocksdb::WriteBatch batch;
  batch.Put(db.handle(Family::kQueue), queue_keys::envelope_key(id), encode_envelope(*envelope));
  return db.write(batch, true);
}

Status QueueStore::remove_orphan_chunks(Database& db) {
  rocksdb::WriteBatch batch;
  size_t orphans = 0;
  std::unique_ptr<rocksdb::Iterator> it = db.iterator(Family::kBlob);
  it->SeekToFirst();
  while (it->Valid()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() < queue_keys::kEnvelopeKeySize) {
      batch.Delete(db.handle(Family::kBlob), slice(key));  // not a chunk key at all
      it->Next();
      continue;
    }
    Result<std::string> next = check_chunks_of(db, batch, key, orphans);
    if (!next.ok()) {
      return next.status();
    }
    if (next->empty()) {
      break;
    }
    it->Seek(*next);
  }
  RM_RETURN_IF_ERROR(from_rocksdb(it->status()));
  if (batch.Count() == 0) {
    return Status::Ok();
  }
  RM_LOG(kInfo, "queue_orphans_removed").kv("messages", uint64_t{orphans});
  return db.write(batch, true);
}

}  // namespace rm
