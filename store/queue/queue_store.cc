// QueueStore: group commit on the shard side and the lane side.
// Thread-safety: as queue_store.h says. A Group is filled on the shard, handed whole to the
// lane job (the shard keeps no access), then handed back whole to the shard's completion.
#include "store/queue/queue_store.h"

#include <rocksdb/write_batch.h>

#include <optional>
#include <utility>

#include "core/base/log.h"
#include "store/body/crc32c.h"
#include "store/queue/queue_keys.h"

namespace rm {

namespace {

struct PendingChunk {
  QueueId id;
  BodyExtent extent;
  std::string bytes;
};

bool is_inline(const Envelope& envelope) {
  return envelope.body_extents.size() == 1 &&
         envelope.body_extents[0].segment == kInlineBodySegment;
}

struct PendingCommit {
  Envelope envelope;
  std::string last_chunk;  // the bytes of the envelope's last extent (or inline body)
  QueueStore::Done done;
  Status status;         // preset to an error when the commit cannot be written
  bool written = false;  // part of the synced batch
};

rocksdb::Slice slice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

Status check_commit(const Envelope& envelope) {
  return validate_envelope(envelope);
}

}  // namespace

struct QueueStore::Group {
  std::vector<PendingChunk> chunks;
  std::vector<std::vector<BodyExtent>> discards;  // bytes to free
  std::vector<PendingCommit> commits;
  std::vector<uint64_t> sealed;  // segments to seal after this group's writes
  uint64_t bytes = 0;
  // Filled by the job.
  std::unordered_set<uint64_t> failed_chunk_ids;
  uint64_t chunks_written = 0;
  bool synced = false;

  bool empty() const {
    return chunks.empty() && discards.empty() && commits.empty() && sealed.empty();
  }
};

namespace {

// The bodies of the group: every piece written, rotated segments sealed, and, when the group
// commits anything, the open segments synced. Returns the status of all that.
Status write_pieces(Database& db, SegmentWriter& writer, std::vector<PendingChunk>& chunks,
                    std::vector<PendingCommit>& commits) {
  std::vector<BodyPiece> pieces;
  uint64_t bytes = 0;
  for (const PendingChunk& chunk : chunks) {
    pieces.push_back({chunk.extent, chunk.bytes});
    bytes += chunk.bytes.size();
  }
  for (const PendingCommit& commit : commits) {
    if (commit.status.ok() && !commit.last_chunk.empty() && !is_inline(commit.envelope)) {
      pieces.push_back({commit.envelope.body_extents.back(), commit.last_chunk});
      bytes += commit.last_chunk.size();
    }
  }
  if (pieces.empty()) {
    return Status::Ok();
  }
  // The database's reserve covers the segment files too: they share the file system.
  RM_RETURN_IF_ERROR(db.check_free_space(bytes));
  return writer.write(std::move(pieces));
}

// The synced part: every writable envelope in one batch. Returns whether a write happened.
bool write_commits(Database& db, BodyStore& bodies, std::vector<PendingCommit>& commits,
                   const std::unordered_set<uint64_t>& failed_chunk_ids,
                   const Status& body_status) {
  rocksdb::WriteBatch batch;
  bool any = false;
  for (PendingCommit& commit : commits) {
    if (!commit.status.ok()) {
      continue;
    }
    if (!body_status.ok() || failed_chunk_ids.count(commit.envelope.id.value) > 0) {
      commit.status =
          body_status.ok() ? Status::IoError("a body chunk was not written") : body_status;
      continue;
    }
    bodies.add_refs(commit.envelope.body_extents);
    const std::string key = queue_keys::envelope_key(commit.envelope.id);
    if (is_inline(commit.envelope)) {
      batch.Put(db.handle(Family::kBlob), key, slice(commit.last_chunk));
    }
    batch.Put(db.handle(Family::kQueue), key, encode_envelope(commit.envelope));
    commit.written = any = true;
  }
  if (!any) {
    return false;
  }
  const Status status = db.write(batch, true);
  for (PendingCommit& commit : commits) {
    if (commit.written) {
      commit.status = status;
      if (!status.ok()) {
        bodies.release(commit.envelope.body_extents, /*free_bytes=*/false);  // retried later
      }
    }
  }
  return true;
}

bool any_commit(const std::vector<PendingCommit>& commits) {
  for (const PendingCommit& commit : commits) {
    if (commit.status.ok()) {
      return true;
    }
  }
  return false;
}

Status write_bodies(Database& db, SegmentWriter& writer, QueueStore::Group& group) {
  Status status = write_pieces(db, writer, group.chunks, group.commits);
  if (status.ok() && (any_commit(group.commits) || !group.sealed.empty())) {
    status = writer.sync();
  }
  return status;
}

}  // namespace

QueueStore::QueueStore(Shard& shard, Database& db, BodyStore& bodies, Config config)
    : shard_(shard),
      db_(db),
      bodies_(bodies),
      config_(config),
      allocator_(bodies, config.segment_bytes),
      writer_(std::make_shared<SegmentWriter>(bodies)),
      pending_(std::make_shared<Group>()) {}

QueueStore::~QueueStore() {
  life_.reset();
  for (PendingCommit& commit : pending_->commits) {
    if (commit.status.ok()) {
      commit.status = Status::Unavailable("queue store closed before the write");
    }
  }
  run_callbacks(*pending_);
}

BodyExtent QueueStore::place(std::string_view bytes) {
  std::optional<uint64_t> full;
  BodyExtent extent = allocator_.allocate(bytes, full);
  if (full) {
    retiring_.insert(*full);
    seal_when_free(*full);
  }
  return extent;
}

void QueueStore::seal_when_free(uint64_t segment) {
  if (retiring_.count(segment) > 0 && open_holds_.count(segment) == 0) {
    retiring_.erase(segment);
    pending_->sealed.push_back(segment);
  }
}

void QueueStore::drop_holds(const std::vector<BodyExtent>& extents) {
  std::unordered_set<uint64_t> segments;
  for (const BodyExtent& e : extents) {
    segments.insert(e.segment);
  }
  for (uint64_t segment : segments) {
    auto it = open_holds_.find(segment);
    RM_ASSERT(it != open_holds_.end() && it->second > 0);
    if (--it->second == 0) {
      open_holds_.erase(it);
    }
    seal_when_free(segment);
  }
}

void QueueStore::append_chunk(QueueId id, std::string bytes) {
  if (bytes.empty()) {
    return;
  }
  pending_->bytes += bytes.size();
  queued_bytes_ += bytes.size();
  const BodyExtent extent = place(bytes);
  std::vector<BodyExtent>& extents = open_bodies_[id.value];
  if (extents.empty() || extents.back().segment != extent.segment) {
    hold_segment(extent.segment);
  }
  extents.push_back(extent);
  pending_->chunks.push_back(PendingChunk{id, extent, std::move(bytes)});
  submit();
}

void QueueStore::commit(Envelope envelope, std::string last_chunk, Done done, bool inline_allowed,
                        std::string header_prefix) {
  RM_ASSERT(done);
  const uint64_t bytes = last_chunk.size() + header_prefix.size() + 256;  // the envelope, roughly
  pending_->bytes += bytes;
  queued_bytes_ += bytes;
  std::vector<BodyExtent> chunks;
  if (auto it = open_bodies_.find(envelope.id.value); it != open_bodies_.end()) {
    chunks = std::move(it->second);
    open_bodies_.erase(it);
  }
  envelope.body_bytes += header_prefix.size();
  envelope.body_extents.clear();
  if (!header_prefix.empty() && chunks.empty()) {
    last_chunk.insert(0, header_prefix);
  } else if (!header_prefix.empty()) {
    // The earlier chunks are written already: the prefix becomes an extent of its own, first
    // in the list, written with this group (before its synced envelope batch, like the last
    // chunk, so it needs no hold on its segment).
    const BodyExtent extent = place(header_prefix);
    envelope.body_extents.push_back(extent);
    pending_->chunks.push_back(PendingChunk{envelope.id, extent, std::move(header_prefix)});
  }
  envelope.body_extents.insert(envelope.body_extents.end(), chunks.begin(), chunks.end());
  if (inline_allowed && chunks.empty() && !last_chunk.empty() &&
      last_chunk.size() <= config_.inline_body_max) {
    envelope.body_extents.push_back(BodyExtent{
        kInlineBodySegment, 0, static_cast<uint32_t>(last_chunk.size()), crc32c(last_chunk)});
  } else if (!last_chunk.empty()) {
    envelope.body_extents.push_back(place(last_chunk));
  }
  Status status = check_commit(envelope);
  pending_->commits.push_back(PendingCommit{std::move(envelope), std::move(last_chunk),
                                            std::move(done), std::move(status)});
  drop_holds(chunks);  // after the commit is queued: a seal must follow it
  submit();
}

void QueueStore::discard(QueueId id) {
  failed_chunk_ids_.erase(id.value);
  auto it = open_bodies_.find(id.value);
  if (it == open_bodies_.end()) {
    return;
  }
  std::vector<BodyExtent> extents = std::move(it->second);
  open_bodies_.erase(it);
  drop_holds(extents);
  pending_->discards.push_back(std::move(extents));
  submit();
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
  Status status =
      shard_.run_blocking([&db = db_, &bodies = bodies_, writer = writer_, &shard = shard_,
                           store = this, life = std::weak_ptr<char>(life_), group] {
        run_group(db, bodies, *writer, *group);
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

void QueueStore::run_group(Database& db, BodyStore& bodies, SegmentWriter& writer, Group& group) {
  const Status body_status = write_bodies(db, writer, group);
  if (body_status.ok()) {
    group.chunks_written = group.chunks.size();
  } else {
    for (const PendingChunk& chunk : group.chunks) {
      group.failed_chunk_ids.insert(chunk.id.value);
    }
  }
  group.synced = write_commits(db, bodies, group.commits, group.failed_chunk_ids, body_status);
  for (const std::vector<BodyExtent>& extents : group.discards) {
    bodies.punch(extents);
  }
  // After the commits took their references: a sealed segment nobody references goes.
  for (uint64_t segment : group.sealed) {
    if (Status sealed = writer.seal(segment); !sealed.ok()) {
      RM_LOG(kWarn, "body_segment_seal_failed").kv("segment", segment).kv("error", sealed);
    }
  }
  // Free the bodies now rather than after the callbacks; small ones stay for the listener.
  group.chunks = {};
  for (PendingCommit& commit : group.commits) {
    if (!is_inline(commit.envelope)) {
      commit.last_chunk = {};
    }
  }
}

void QueueStore::on_group_done(const std::shared_ptr<Group>& group) {
  account(*group);
  notify_listener(*group);
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
}

void QueueStore::notify_listener(const Group& group) const {
  if (!commit_listener_) {
    return;
  }
  for (const PendingCommit& commit : group.commits) {
    if (commit.status.ok()) {
      commit_listener_(commit.envelope, is_inline(commit.envelope) ? &commit.last_chunk : nullptr);
    }
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

Result<std::string> read_inline(Database& db, const Envelope& envelope) {
  Result<std::optional<std::string>> value =
      db.get(Family::kBlob, queue_keys::envelope_key(envelope.id));
  if (!value.ok()) {
    return value.status();
  }
  if (!value->has_value()) {
    return Status::NotFound("the body is missing from the database");
  }
  const BodyExtent& extent = envelope.body_extents[0];
  if ((*value)->size() != envelope.body_bytes || (*value)->size() != extent.length ||
      crc32c(**value) != extent.crc) {
    return Status::Internal("the body's size or checksum does not match its envelope");
  }
  return std::move(**value);
}

// A recipient already delivered may have its copy in a mailbox, which shares the body's
// bytes: then they must not be freed with the queue entry.
bool delivered_any(const Envelope& envelope) {
  for (const Recipient& r : envelope.recipients) {
    if (r.state == Recipient::State::kDelivered) {
      return true;
    }
  }
  return false;
}

// Each segment once per envelope: the references add_refs takes for it.
void count_refs(const Envelope& envelope, std::unordered_map<uint64_t, uint64_t>& refs) {
  std::unordered_set<uint64_t> seen;
  for (const BodyExtent& e : envelope.body_extents) {
    if (e.segment != kInlineBodySegment && seen.insert(e.segment).second) {
      ++refs[e.segment];
    }
  }
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

Result<std::vector<QueueStore::Due>> QueueStore::list_due(
    Database& db, const std::function<bool(QueueId)>& owned) {
  std::vector<Due> out;
  const Status status =
      db.scan(Family::kQueue, "", "", [&](std::string_view key, std::string_view value) {
        const std::optional<QueueId> id = queue_id_from_key(key);
        if (!id || key.size() != queue_keys::kEnvelopeKeySize || !owned(*id)) {
          return true;
        }
        Result<Envelope> envelope = decode_entry(*id, value);
        if (!envelope.ok()) {
          RM_LOG(kError, "queue_entry_unreadable").kv("error", envelope.status());
        } else if (!envelope->held) {
          out.push_back(Due{*id, envelope->next_attempt_unix_ms});
        }
        return true;
      });
  RM_RETURN_IF_ERROR(status);
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

Result<std::string> QueueStore::read_body(Database& db, BodyStore& bodies,
                                          const Envelope& envelope) {
  Result<std::string> body = is_inline(envelope)
                                 ? read_inline(db, envelope)
                                 : bodies.read(envelope.body_extents, envelope.body_bytes);
  if (!body.ok()) {
    return Status::Internal("corrupt body of " + envelope.id.text() + ": " +
                            std::string(body.status().message()));
  }
  return body;
}

Status QueueStore::delete_message(Database& db, BodyStore& bodies, QueueId id) {
  Result<Envelope> envelope = load_envelope(db, id);
  if (!envelope.ok() && envelope.status().code() != StatusCode::kInvalidArgument) {
    return envelope.status();  // not queued, or unreadable; a corrupt one is deleted
  }
  rocksdb::WriteBatch batch;
  batch.Delete(db.handle(Family::kQueue), queue_keys::envelope_key(id));
  batch.Delete(db.handle(Family::kBlob), queue_keys::envelope_key(id));  // an inline body
  RM_RETURN_IF_ERROR(db.write(batch, true));
  if (envelope.ok()) {
    bodies.release(envelope->body_extents, !delivered_any(*envelope));
  }
  return Status::Ok();
}

Status QueueStore::write_delivery_state(Database& db, BodyStore& bodies,
                                        const std::vector<Envelope>& updated,
                                        const std::vector<Envelope>& removed) {
  rocksdb::WriteBatch batch;
  for (const Envelope& e : updated) {
    batch.Put(db.handle(Family::kQueue), queue_keys::envelope_key(e.id), encode_envelope(e));
  }
  for (const Envelope& e : removed) {
    batch.Delete(db.handle(Family::kQueue), queue_keys::envelope_key(e.id));
    if (is_inline(e)) {
      batch.Delete(db.handle(Family::kBlob), queue_keys::envelope_key(e.id));
    }
  }
  RM_RETURN_IF_ERROR(db.write(batch, true));
  for (const Envelope& e : removed) {
    bodies.release(e.body_extents, !delivered_any(e));
  }
  return Status::Ok();
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

Status QueueStore::recover(Database& db, BodyStore& bodies,
                           std::unordered_map<uint64_t, uint64_t> other_refs) {
  std::unordered_map<uint64_t, uint64_t> refs = std::move(other_refs);
  const Status status =
      db.scan(Family::kQueue, "", "", [&](std::string_view key, std::string_view value) {
        const std::optional<QueueId> id = queue_id_from_key(key);
        if (!id || key.size() != queue_keys::kEnvelopeKeySize) {
          RM_LOG(kError, "queue_key_unreadable").kv("bytes", uint64_t{key.size()});
          return true;
        }
        Result<Envelope> envelope = decode_entry(*id, value);
        if (!envelope.ok()) {
          // Its body cannot be found without it; the entry itself stays for an admin.
          RM_LOG(kError, "queue_entry_unreadable").kv("error", envelope.status());
          return true;
        }
        count_refs(*envelope, refs);
        return true;
      });
  RM_RETURN_IF_ERROR(status);
  return bodies.recover(refs);
}

}  // namespace rm
