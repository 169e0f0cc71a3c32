#include "store/body/segment_writer.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace rm {
namespace {

uint64_t end_of(const BodyExtent& e) {
  return e.offset + e.length;
}

Status check_length(const BodyPiece& piece) {
  if (piece.bytes.size() != piece.extent.length) {
    return Status::InvalidArgument("body piece length does not match its extent");
  }
  return Status::Ok();
}

Status sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return Status::FromErrno("body store: cannot open " + dir, errno);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : Status::FromErrno("body store: fsync " + dir, err);
}

}  // namespace

SegmentWriter::~SegmentWriter() {
  for (const auto& [segment, fd] : fds_) {
    ::close(fd);
  }
}

Result<int> SegmentWriter::fd_for(uint64_t segment) {
  if (auto it = fds_.find(segment); it != fds_.end()) {
    return it->second;
  }
  const std::string path = store_.segment_path(segment);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::FromErrno("body store: cannot create " + path, errno);
  }
  // The new name must be durable before any envelope can point into the file.
  if (Status synced = sync_directory(store_.dir()); !synced.ok()) {
    ::close(fd);
    return synced;
  }
  fds_.emplace(segment, fd);
  return fd;
}

Status SegmentWriter::write(std::vector<BodyPiece> pieces) {
  std::sort(pieces.begin(), pieces.end(), [](const BodyPiece& a, const BodyPiece& b) {
    return a.extent.segment != b.extent.segment ? a.extent.segment < b.extent.segment
                                                : a.extent.offset < b.extent.offset;
  });
  size_t begin = 0;
  while (begin < pieces.size()) {
    RM_RETURN_IF_ERROR(check_length(pieces[begin]));
    size_t end = begin + 1;
    while (end < pieces.size() && end - begin < IOV_MAX &&
           pieces[end].extent.segment == pieces[begin].extent.segment &&
           pieces[end].extent.offset == end_of(pieces[end - 1].extent)) {
      RM_RETURN_IF_ERROR(check_length(pieces[end]));
      ++end;
    }
    Result<int> fd = fd_for(pieces[begin].extent.segment);
    if (!fd.ok()) {
      return fd.status();
    }
    RM_RETURN_IF_ERROR(write_run(*fd, pieces, begin, end));
    dirty_.insert(pieces[begin].extent.segment);
    begin = end;
  }
  return Status::Ok();
}

// One contiguous run [begin, end): pwritev, resumed after a short write.
Status SegmentWriter::write_run(int fd, const std::vector<BodyPiece>& pieces, size_t begin,
                                size_t end) {
  std::vector<iovec> iov;
  iov.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    iov.push_back({const_cast<char*>(pieces[i].bytes.data()), pieces[i].bytes.size()});
  }
  uint64_t offset = pieces[begin].extent.offset;
  size_t first = 0;
  while (first < iov.size()) {
    const ssize_t n = ::pwritev(fd, &iov[first], static_cast<int>(iov.size() - first),
                                static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return Status::FromErrno("body store: write", errno);
    }
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first++].iov_len;
    }
    if (first < iov.size()) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status::Ok();
}

Status SegmentWriter::sync() {
  for (auto it = dirty_.begin(); it != dirty_.end();) {
    const int fd = fds_.at(*it);
    if (::fdatasync(fd) != 0) {
      return Status::FromErrno("body store: fdatasync", errno);
    }
    it = dirty_.erase(it);
  }
  return Status::Ok();
}

Status SegmentWriter::seal(uint64_t segment) {
  auto it = fds_.find(segment);
  if (it != fds_.end()) {
    if (dirty_.erase(segment) > 0 && ::fdatasync(it->second) != 0) {
      return Status::FromErrno("body store: fdatasync", errno);
    }
    ::close(it->second);
    fds_.erase(it);
  }
  store_.seal(segment);
  return Status::Ok();
}

}  // namespace rm
