// BodyStore: message bodies in append-only segment files beside the database.
//
// Why not RocksDB: a body written through RocksDB is written twice (its WAL, then a blob
// file at flush) and checksummed in software by Debian's portable build; bodies are large,
// written once, read rarely and deleted whole, which an append-only file serves with one
// write and one fdatasync. The database keeps only each body's extents (in the envelope).
//
// Layout: DIR/<16 hex digits>.seg. Each shard appends to its own open segment (a writer is
// single-threaded: see BodyAllocator and SegmentWriter); segment numbers are unique in the
// process and grow, so a restart with another shard count still finds every body.
// Life of a segment: created open; written; sealed when its writer moves on (synced and
// closed); removed as soon as it is sealed and no stored message references it. A message
// takes one reference on each segment its extents touch (add_refs) when it is stored and
// gives it back (release) when it is deleted; the bytes of a deleted body nobody else shares
// are freed at once by punching a hole, so a long-held message keeps little more than its
// own bytes on disk.
// Extents in kInlineBodySegment are not the BodyStore's: every call here skips them.
// Crash safety: a body is synced before the envelope that references it is written, so an
// envelope never points at bytes that were not durable. What a crash leaves unreferenced,
// recover() removes at the next start.
// Thread-safety: every member function may be called from any thread (a mutex guards the
// segment table; reads and hole punches run outside it). Calls block on file I/O: lanes and
// admin threads only, never a reactor thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>

#include "core/base/status.h"
#include "store/body/body_extent.h"

namespace rm {

struct BodyStoreCounters {
  std::atomic<uint64_t> segments_created{0};
  std::atomic<uint64_t> segments_removed{0};
  std::atomic<uint64_t> holes_punched{0};
};

class BodyStore {
 public:
  // Opens (creating when missing) the segment directory `dir` and finds the next segment
  // number. Call recover() before any writer starts.
  static Result<std::unique_ptr<BodyStore>> open(std::string dir);
  ~BodyStore();
  BodyStore(const BodyStore&) = delete;
  BodyStore& operator=(const BodyStore&) = delete;

  const std::string& dir() const { return dir_; }
  std::string segment_path(uint64_t segment) const;
  const BodyStoreCounters& counters() const { return counters_; }
  // Segments known (open or sealed with references).
  size_t segment_count() const;

  // A fresh segment number, registered as open (never removed while open). The file is
  // created by the first write.
  uint64_t create_segment();
  // The writer is done with `segment`: its data is synced and its file closed. Removed now
  // when no stored message references it, else when the last reference goes.
  void seal(uint64_t segment);

  // One more reference to every segment `extents` touch (a message being stored).
  void add_refs(std::span<const BodyExtent> extents);
  // Gives back what add_refs took and removes sealed segments left unreferenced. With
  // `free_bytes` it also frees the extents' bytes at once (hole punch): only when no other
  // record can reference the same bytes (a body delivered into mailboxes is shared).
  void release(std::span<const BodyExtent> extents, bool free_bytes);
  // Frees bytes that were written but will never be referenced (a discarded message).
  void punch(std::span<const BodyExtent> extents);

  // The body made of `extents`, checked against each extent's CRC and `expected_bytes`.
  Result<std::string> read(std::span<const BodyExtent> extents, uint64_t expected_bytes);

  // At start, before any writer: `refs` is the number of stored messages referencing each
  // segment. Segments absent from it are removed; the others are sealed.
  Status recover(const std::unordered_map<uint64_t, uint64_t>& refs);

 private:
  struct Segment {
    uint64_t refs = 0;
    bool sealed = false;
    std::shared_ptr<int> fd;  // for reads and hole punches, opened on first use
  };

  explicit BodyStore(std::string dir) : dir_(std::move(dir)) {}
  Result<std::shared_ptr<int>> file_of(uint64_t segment);
  void remove_locked(uint64_t segment);
  void punch_extent(const BodyExtent& extent);

  const std::string dir_;
  mutable std::mutex mu_;
  std::unordered_map<uint64_t, Segment> segments_;
  uint64_t next_segment_ = 1;
  BodyStoreCounters counters_;
};

}  // namespace rm
