// BodyStore: the segment table, reads, hole punches and recovery.
#include "store/body/body_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <set>
#include <utility>
#include <vector>

#include "core/base/assert.h"
#include "core/base/log.h"
#include "store/body/crc32c.h"

namespace rm {
namespace {

constexpr std::string_view kSuffix = ".seg";
constexpr size_t kNameDigits = 16;

// The segment number of a file name "<16 hex digits>.seg", or 0 when it is not one.
uint64_t segment_of_name(std::string_view name) {
  if (name.size() != kNameDigits + kSuffix.size() || name.substr(kNameDigits) != kSuffix) {
    return 0;
  }
  uint64_t value = 0;
  for (char c : name.substr(0, kNameDigits)) {
    const int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
    if (digit < 0) {
      return 0;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  return value;
}

Result<std::vector<uint64_t>> list_segments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    return Status::FromErrno("body store: cannot list " + dir, errno);
  }
  std::vector<uint64_t> out;
  while (const dirent* entry = ::readdir(d)) {
    if (const uint64_t segment = segment_of_name(entry->d_name); segment != 0) {
      out.push_back(segment);
    }
  }
  ::closedir(d);
  return out;
}

// Each segment once, however many extents lie in it.
std::set<uint64_t> segments_of(std::span<const BodyExtent> extents) {
  std::set<uint64_t> out;
  for (const BodyExtent& e : extents) {
    if (e.segment != kInlineBodySegment) {
      out.insert(e.segment);
    }
  }
  return out;
}

Status read_exactly(int fd, char* out, size_t length, uint64_t offset) {
  while (length > 0) {
    const ssize_t n = ::pread(fd, out, length, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Status::FromErrno("body store: read", errno);
    }
    if (n == 0) {
      return Status::Internal("body store: segment ends before the extent does");
    }
    out += n;
    length -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<BodyStore>> BodyStore::open(std::string dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::FromErrno("body store: cannot create " + dir, errno);
  }
  Result<std::vector<uint64_t>> existing = list_segments(dir);
  if (!existing.ok()) {
    return existing.status();
  }
  std::unique_ptr<BodyStore> store(new BodyStore(std::move(dir)));
  for (uint64_t segment : *existing) {
    store->next_segment_ = std::max(store->next_segment_, segment + 1);
  }
  return store;
}

BodyStore::~BodyStore() = default;

std::string BodyStore::segment_path(uint64_t segment) const {
  char name[kNameDigits + 1];
  std::snprintf(name, sizeof name, "%016" PRIx64, segment);
  return dir_ + "/" + name + std::string(kSuffix);
}

size_t BodyStore::segment_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return segments_.size();
}

uint64_t BodyStore::create_segment() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t segment = next_segment_++;
  segments_.emplace(segment, Segment{});
  counters_.segments_created.fetch_add(1, std::memory_order_relaxed);
  return segment;
}

void BodyStore::seal(uint64_t segment) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = segments_.find(segment);
  RM_ASSERT(it != segments_.end());
  it->second.sealed = true;
  if (it->second.refs == 0) {
    remove_locked(segment);
  }
}

void BodyStore::add_refs(std::span<const BodyExtent> extents) {
  const std::set<uint64_t> segments = segments_of(extents);
  if (segments.empty()) {
    return;  // a small body kept with its envelope: nothing to count here
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (uint64_t segment : segments) {
    auto it = segments_.find(segment);
    RM_ASSERT(it != segments_.end());  // a writer's segment lives until sealed and unreferenced
    ++it->second.refs;
  }
}

void BodyStore::release(std::span<const BodyExtent> extents, bool free_bytes) {
  std::set<uint64_t> removed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (uint64_t segment : segments_of(extents)) {
      auto it = segments_.find(segment);
      if (it == segments_.end() || it->second.refs == 0) {
        RM_LOG(kWarn, "body_release_unknown").kv("segment", segment);
        continue;
      }
      if (--it->second.refs == 0 && it->second.sealed) {
        remove_locked(segment);
        removed.insert(segment);
      }
    }
  }
  for (const BodyExtent& e : extents) {
    if (free_bytes && e.segment != kInlineBodySegment && removed.count(e.segment) == 0) {
      punch_extent(e);
    }
  }
}

void BodyStore::punch(std::span<const BodyExtent> extents) {
  for (const BodyExtent& e : extents) {
    if (e.segment != kInlineBodySegment) {
      punch_extent(e);
    }
  }
}

void BodyStore::punch_extent(const BodyExtent& extent) {
  Result<std::shared_ptr<int>> fd = file_of(extent.segment);
  if (!fd.ok()) {
    return;  // the segment is gone already: nothing to free
  }
  // Frees only whole file-system blocks inside the range; the rest reads as zeros.
  if (::fallocate(**fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(extent.offset), static_cast<off_t>(extent.length)) == 0) {
    counters_.holes_punched.fetch_add(1, std::memory_order_relaxed);
  }
}

Result<std::shared_ptr<int>> BodyStore::file_of(uint64_t segment) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = segments_.find(segment);
  if (it == segments_.end()) {
    return Status::NotFound("body store: no segment " + std::to_string(segment));
  }
  if (!it->second.fd) {
    const int fd = ::open(segment_path(segment).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      return Status::FromErrno("body store: cannot open " + segment_path(segment), errno);
    }
    it->second.fd = std::shared_ptr<int>(new int(fd), [](int* p) {
      ::close(*p);
      delete p;
    });
  }
  return it->second.fd;
}

void BodyStore::remove_locked(uint64_t segment) {
  const std::string path = segment_path(segment);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    RM_LOG(kWarn, "body_segment_unlink_failed").kv("path", path).kv("errno", errno);
  }
  segments_.erase(segment);  // the file closes when its last reader lets go
  counters_.segments_removed.fetch_add(1, std::memory_order_relaxed);
}

Result<std::string> BodyStore::read(std::span<const BodyExtent> extents, uint64_t expected_bytes) {
  uint64_t total = 0;
  for (const BodyExtent& e : extents) {
    total += e.length;
  }
  if (total != expected_bytes) {
    return Status::Internal("body store: extents hold " + std::to_string(total) +
                            " bytes; the envelope says " + std::to_string(expected_bytes));
  }
  std::string body(total, '\0');
  size_t at = 0;
  for (const BodyExtent& e : extents) {
    Result<std::shared_ptr<int>> fd = file_of(e.segment);
    if (!fd.ok()) {
      return fd.status();
    }
    RM_RETURN_IF_ERROR(read_exactly(**fd, body.data() + at, e.length, e.offset));
    if (crc32c(std::string_view(body).substr(at, e.length)) != e.crc) {
      return Status::Internal("body store: checksum mismatch in segment " +
                              std::to_string(e.segment) + " at offset " + std::to_string(e.offset));
    }
    at += e.length;
  }
  return body;
}

Status BodyStore::recover(const std::unordered_map<uint64_t, uint64_t>& refs) {
  Result<std::vector<uint64_t>> existing = list_segments(dir_);
  if (!existing.ok()) {
    return existing.status();
  }
  std::lock_guard<std::mutex> lock(mu_);
  RM_ASSERT(segments_.empty());
  uint64_t removed = 0;
  for (uint64_t segment : *existing) {
    auto it = refs.find(segment);
    if (it == refs.end() || it->second == 0) {
      segments_.emplace(segment, Segment{});
      remove_locked(segment);
      ++removed;
      continue;
    }
    segments_.emplace(segment, Segment{it->second, true, nullptr});
  }
  for (const auto& [segment, count] : refs) {
    if (count > 0 && segments_.count(segment) == 0) {
      RM_LOG(kError, "body_segment_missing").kv("segment", segment).kv("messages", count);
    }
  }
  if (removed > 0) {
    RM_LOG(kInfo, "body_segments_removed").kv("segments", removed);
  }
  return Status::Ok();
}

}  // namespace rm
