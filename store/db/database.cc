// Database: opening, closing and the thin blocking wrappers over RocksDB.
// Thread-safety: as database.h says (RocksDB synchronises concurrent reads and writes).
#include "store/db/database.h"

#include <sys/statvfs.h>

#include <mutex>

#include <rocksdb/convenience.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>

#include <algorithm>
#include <cstring>

#include <utility>
#include <vector>

#include "core/base/log.h"

namespace rm {

namespace {

constexpr std::array<std::string_view, kFamilyCount> kFamilyNames = {"default", "queue", "blob",
                                                                     "mailbox", "account"};

rocksdb::DBOptions db_options() {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_background_jobs = 2;
  options.bytes_per_sync = 1 << 20;
  options.wal_bytes_per_sync = 1 << 20;
  // Reuse old WAL files: a synced write then overwrites blocks the file already has, so the
  // fdatasync carries data only, no file-size change for the journal to commit.
  options.recycle_log_file_num = 4;
  return options;
}

// Adds 8-byte little-endian signed counters: reference counts that writers on several
// threads change with Merge, never read-modify-write.
class CounterAddOperator final : public rocksdb::AssociativeMergeOperator {
 public:
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    const int64_t sum = read(existing) + read(&value);
    new_value->assign(8, '\0');
    std::memcpy(new_value->data(), &sum, 8);
    return true;
  }
  const char* Name() const override { return "rm.CounterAdd"; }

 private:
  static int64_t read(const rocksdb::Slice* s) {
    int64_t v = 0;
    if (s != nullptr && s->size() == 8) {
      std::memcpy(&v, s->data(), 8);
    }
    return v;
  }
};

// Whether this RocksDB build can write LZ4 blocks (Debian's links liblz4; a build without
// it would refuse the option).
bool lz4_supported() {
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  return std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) !=
         supported.end();
}

rocksdb::ColumnFamilyOptions family_options(Family family) {
  rocksdb::ColumnFamilyOptions options;
  if (family == Family::kMailbox) {
    options.merge_operator = std::make_shared<CounterAddOperator>();
    // Small bodies live inline in the message entries, and IMAP/POP3 read them whole, one
    // block each: LZ4 decompresses them several times faster than the default Snappy, at
    // about the same size. (Blocks already written keep their own compression.)
    if (lz4_supported()) {
      options.compression = rocksdb::kLZ4Compression;
    }
  }
  if (family == Family::kBlob) {
    // Bodies go to blob files: compaction moves only their small references.
    options.enable_blob_files = true;
    options.min_blob_size = 4096;
    // Relocate the few live blobs (held messages) out of old blob files so those can go.
    options.enable_blob_garbage_collection = true;
  }
  return options;
}

rocksdb::Slice slice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}
std::string_view view(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace

std::string_view family_name(Family family) {
  return kFamilyNames[static_cast<size_t>(family)];
}

Status from_rocksdb(const rocksdb::Status& status) {
  if (status.ok()) {
    return Status::Ok();
  }
  std::string msg = "rocksdb: " + status.ToString();
  if (status.IsIOError() || status.IsNoSpace()) {
    return Status::IoError(std::move(msg));
  }
  if (status.IsNotFound()) {
    return Status::NotFound(std::move(msg));
  }
  if (status.IsInvalidArgument()) {
    return Status::InvalidArgument(std::move(msg));
  }
  if (status.IsNotSupported()) {
    return Status::Unsupported(std::move(msg));
  }
  if (status.IsBusy() || status.IsTryAgain() || status.IsTimedOut() ||
      status.IsShutdownInProgress()) {
    return Status::Unavailable(std::move(msg));
  }
  return Status::Internal(std::move(msg));
}

std::string prefix_successor(std::string_view prefix) {
  std::string next(prefix);
  while (!next.empty()) {
    const auto last = static_cast<unsigned char>(next.back());
    if (last != 0xff) {
      next.back() = static_cast<char>(last + 1);
      return next;
    }
    next.pop_back();
  }
  return next;
}

Result<std::unique_ptr<Database>> Database::open(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (size_t i = 0; i < kFamilyCount; ++i) {
    families.emplace_back(std::string(kFamilyNames[i]), family_options(static_cast<Family>(i)));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status status = rocksdb::DB::Open(db_options(), dir, families, &handles, &raw);
  if (!status.ok()) {
    return from_rocksdb(status);
  }
  std::unique_ptr<Database> db(new Database());
  db->dir_ = dir;
  db->db_.reset(raw);
  RM_ASSERT(handles.size() == kFamilyCount);
  for (size_t i = 0; i < kFamilyCount; ++i) {
    db->handles_[i] = handles[i];
  }
  return db;
}

Database::~Database() {
  const Status status = close();
  if (!status.ok()) {
    RM_LOG(kError, "db_close").kv("dir", dir_).kv("status", status);
  }
}

Status Database::close() {
  if (!db_) {
    return Status::Ok();
  }
  rocksdb::FlushOptions flush;
  flush.wait = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles(handles_.begin(), handles_.end());
  Status result = from_rocksdb(db_->Flush(flush, handles));
  for (rocksdb::ColumnFamilyHandle*& handle : handles_) {
    const Status destroyed = from_rocksdb(db_->DestroyColumnFamilyHandle(handle));
    handle = nullptr;
    if (result.ok()) {
      result = destroyed;
    }
  }
  const Status closed = from_rocksdb(db_->Close());
  db_.reset();
  return result.ok() ? closed : result;
}

Status Database::write(rocksdb::WriteBatch& batch, bool sync) {
  RM_ASSERT(db_);
  // A failed write is sticky (as in LevelDB): after a WAL append or sync fails, RocksDB
  // 7.8 must not be written again — the next sync on the same log trips an internal
  // assertion — and nothing written after it could be trusted to be durable anyway. Every
  // later write fails with the first error until the server restarts. The lock also keeps
  // a second shard from entering a write while the first one's failure is being recorded.
  std::lock_guard<std::mutex> lock(write_mu_);
  if (!write_error_.ok()) {
    return write_error_;
  }
  RM_RETURN_IF_ERROR(check_free_space(batch.GetDataSize()));
  rocksdb::WriteOptions options;
  options.sync = sync;
  Status status = from_rocksdb(db_->Write(options, &batch));
  if (!status.ok()) {
    write_error_ = status;
  }
  return status;
}

// Like Postfix's queue_minfree: refuse to write when the file system is nearly full, so
// RocksDB never meets ENOSPC in its log (which it cannot recover from) and clients get a
// clean 452 4.3.1 instead.
Status Database::check_free_space(size_t incoming_bytes) {
  if (min_free_bytes_ == 0) {
    return Status::Ok();
  }
  struct statvfs st;
  if (::statvfs(dir_.c_str(), &st) != 0) {
    return Status::Ok();  // cannot tell: let the write itself speak
  }
  const uint64_t free_bytes = uint64_t{st.f_bavail} * st.f_frsize;
  if (free_bytes < min_free_bytes_ + incoming_bytes) {
    return Status::ResourceExhausted("store: " + std::to_string(free_bytes) + " bytes free in " + dir_ +
                                     ", fewer than the " + std::to_string(min_free_bytes_) +
                                     " kept in reserve: insufficient space");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> Database::get(Family family, std::string_view key) {
  RM_ASSERT(db_);
  std::string value;
  const rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), handle(family), slice(key), &value);
  if (status.IsNotFound()) {
    return std::optional<std::string>();
  }
  if (!status.ok()) {
    return from_rocksdb(status);
  }
  return std::optional<std::string>(std::move(value));
}

Status Database::scan(Family family, std::string_view begin, std::string_view end,
                      const Visitor& visit) {
  RM_ASSERT(db_);
  const std::string upper(end);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  if (!upper.empty()) {
    options.iterate_upper_bound = &upper_slice;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options, handle(family)));
  for (it->Seek(slice(begin)); it->Valid(); it->Next()) {
    if (!visit(view(it->key()), view(it->value()))) {
      break;
    }
  }
  return from_rocksdb(it->status());
}

Status Database::scan_prefix(Family family, std::string_view prefix, const Visitor& visit) {
  const std::string end = prefix_successor(prefix);
  if (!prefix.empty() && end.empty()) {
    // All 0xff: no upper bound exists, so check the prefix on each key instead.
    return scan(family, prefix, "", [&](std::string_view key, std::string_view value) {
      return key.substr(0, prefix.size()) == prefix && visit(key, value);
    });
  }
  return scan(family, prefix, end, visit);
}

std::unique_ptr<rocksdb::Iterator> Database::iterator(Family family) {
  RM_ASSERT(db_);
  return std::unique_ptr<rocksdb::Iterator>(
      db_->NewIterator(rocksdb::ReadOptions(), handle(family)));
}

}  // namespace rm
