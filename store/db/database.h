// Database: the one RocksDB database under the data directory, with a column family per
// kind of record ("default", "queue", "blob", "mailbox", "account").
//
// "blob" holds small message bodies stored with their envelope (larger ones live in the
// BodyStore's segment files) and uses integrated BlobDB (values of 4 KiB and more go to blob
// files and skip compaction). "mailbox" has a merge operator that adds 8-byte counters. The
// WAL stays on; a synced write (write(batch, true))
// is durable when it returns, and syncs every earlier unsynced write with it.
// Every call blocks (disk I/O): run them on a blocking lane or an admin thread, never on a
// reactor thread.
// Thread-safety: write, get, scan and iterator may be called from any number of threads at
// once (RocksDB is internally synchronised). open and close/destruction from one thread,
// after every other user is done.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm {

enum class Family : uint8_t { kDefault = 0, kQueue, kBlob, kMailbox, kAccount };
inline constexpr size_t kFamilyCount = 5;

// The column family's name in RocksDB ("default", "queue", ...).
std::string_view family_name(Family family);

// rocksdb::Status -> rm::Status: IO errors and a full disk become IoError, carrying the
// RocksDB message.
Status from_rocksdb(const rocksdb::Status& status);

// The smallest key greater than every key that starts with `prefix` ("" if none exists).
std::string prefix_successor(std::string_view prefix);

class Database {
 public:
  // Called for each key in a scan, in key order; returns false to stop the scan.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

  // Opens the database in `dir`, creating it and any missing column family.
  static Result<std::unique_ptr<Database>> open(const std::string& dir);
  ~Database();  // close(), logging a failure
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Flushes the memtables and closes. Later calls return OK and do nothing.
  Status close();

  rocksdb::DB* raw() { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Family family) {
    return handles_[static_cast<size_t>(family)];
  }
  const std::string& dir() const { return dir_; }

  // Writes are refused (ResourceExhausted) when fewer than `bytes` would stay free on the
  // file system; 0 turns the check off.
  void set_min_free_bytes(uint64_t bytes) { min_free_bytes_ = bytes; }
  // ResourceExhausted when writing `incoming_bytes` would leave less than that reserve free
  // (every write checks it; other files on the same file system may ask too).
  Status check_free_space(size_t incoming_bytes);

  // Applies `batch` atomically; with `sync` the WAL is fsynced before returning.
  Status write(rocksdb::WriteBatch& batch, bool sync);
  // The value at `key`, or nullopt when there is none.
  Result<std::optional<std::string>> get(Family family, std::string_view key);
  // Visits the keys in [begin, end) in order; an empty `end` means "to the last key".
  Status scan(Family family, std::string_view begin, std::string_view end, const Visitor& visit);
  // Visits the keys that start with `prefix`, in order.
  Status scan_prefix(Family family, std::string_view prefix, const Visitor& visit);
  // A raw iterator over `family`, for scans that seek (check status() when done).
  std::unique_ptr<rocksdb::Iterator> iterator(Family family);

 private:
  Database() = default;

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;

  uint64_t min_free_bytes_ = 0;
  std::mutex write_mu_;
  Status write_error_;  // GUARDED_BY(write_mu_): the first failed write, sticky
  std::array<rocksdb::ColumnFamilyHandle*, kFamilyCount> handles_{};
};

}  // namespace rm
