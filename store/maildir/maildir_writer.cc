// Maildir delivery: directories, unique names, tmp/ → new/ with fsyncs, CRLF → LF.
// Thread-safety: as maildir_writer.h says; the only shared state is the atomic counter.
#include "store/maildir/maildir_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "core/base/assert.h"

namespace rm {

namespace {

constexpr int kOpenAttemptsMax = 8;  // fresh names tried when tmp/<name> exists already

std::atomic<uint64_t> g_delivery_counter{0};

// ENOSPC/EDQUOT mean "no room": the caller should defer, not fail the message.
Status errno_status(std::string_view what, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return Status::ResourceExhausted(std::string(what) + ": " + std::strerror(err));
  }
  return Status::FromErrno(what, err);
}

Status fsync_dir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return errno_status("open " + path, errno);
  }
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? Status::Ok() : errno_status("fsync " + path, err);
}

std::string parent_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

// mkdir 0700 when missing; a new directory's entry is made durable in its parent.
Status ensure_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0) {
    return errno == EEXIST ? Status::Ok() : errno_status("mkdir " + path, errno);
  }
  return fsync_dir(parent_of(path));
}

Status ensure_maildir_dirs(const std::string& dir) {
  RM_RETURN_IF_ERROR(ensure_dir(dir));
  for (const char* sub : {"/cur", "/new", "/tmp"}) {
    RM_RETURN_IF_ERROR(ensure_dir(dir + sub));
  }
  return Status::Ok();
}

// Maildir++ marks a folder with an empty "maildirfolder" file.
Status ensure_folder_marker(const std::string& dir) {
  const std::string path = dir + "/maildirfolder";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return errno_status("open " + path, errno);
  }
  ::close(fd);
  return Status::Ok();
}

// One or more '.'-separated components, none empty, none with '/' or a control byte.
bool valid_folder_name(std::string_view folder) {
  if (folder.empty() || folder.front() == '.' || folder.back() == '.') {
    return false;
  }
  char previous = 0;
  for (char c : folder) {
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f ||
        (c == '.' && previous == '.')) {
      return false;
    }
    previous = c;
  }
  return true;
}

Result<std::string> maildir_dir(const MaildirTarget& target) {
  if (target.root.empty()) {
    return Status::InvalidArgument("maildir: empty path");
  }
  RM_RETURN_IF_ERROR(ensure_maildir_dirs(target.root));
  if (target.folder.empty()) {
    return target.root;
  }
  if (!valid_folder_name(target.folder)) {
    return Status::InvalidArgument("maildir: bad folder name '" + target.folder + "'");
  }
  const std::string dir = target.root + "/." + target.folder;
  RM_RETURN_IF_ERROR(ensure_maildir_dirs(dir));
  RM_RETURN_IF_ERROR(ensure_folder_marker(dir));
  return dir;
}

std::string local_hostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

std::string unique_name(const std::string& escaped_host) {
  timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const uint64_t counter = g_delivery_counter.fetch_add(1, std::memory_order_relaxed);
  char prefix[96];
  std::snprintf(prefix, sizeof(prefix), "%lld.M%ldP%dQ%llu.", static_cast<long long>(ts.tv_sec),
                ts.tv_nsec / 1000, static_cast<int>(::getpid()),
                static_cast<unsigned long long>(counter));
  return prefix + escaped_host;
}

bool header_line_ok(std::string_view line) {
  return line.find_first_of("\r\n") == std::string_view::npos;
}

// Moves `from` to `to` unless `to` exists; falls back to rename() where the file system
// lacks RENAME_NOREPLACE (unique names make a clash practically impossible there).
int rename_no_replace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return 0;
  }
  if (errno != EINVAL && errno != ENOSYS) {
    return -1;
  }
  return ::rename(from.c_str(), to.c_str());
}

}  // namespace

std::string escape_maildir_hostname(std::string_view hostname) {
  std::string out;
  out.reserve(hostname.size());
  for (char c : hostname) {
    if (c == '/') {
      out += "\\057";
    } else if (c == ':') {
      out += "\\072";
    } else {
      out += c;
    }
  }
  return out;
}

Result<MaildirDelivery> MaildirDelivery::begin(const MaildirTarget& target,
                                               std::span<const std::string> header_lines) {
  for (const std::string& line : header_lines) {
    if (!header_line_ok(line)) {
      return Status::InvalidArgument("maildir: header line with CR or LF");
    }
  }
  Result<std::string> dir = maildir_dir(target);
  if (!dir.ok()) {
    return dir.status();
  }
  const std::string host =
      escape_maildir_hostname(target.hostname.empty() ? local_hostname() : target.hostname);
  for (int attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
    std::string unique = unique_name(host);
    const std::string path = *dir + "/tmp/" + unique;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == EEXIST) {
      continue;
    }
    if (fd < 0) {
      return errno_status("open " + path, errno);
    }
    MaildirDelivery delivery(fd, *dir, std::move(unique));
    for (const std::string& line : header_lines) {
      RM_RETURN_IF_ERROR(delivery.write_all(line));
      RM_RETURN_IF_ERROR(delivery.write_all("\n"));
    }
    return delivery;
  }
  return Status::AlreadyExists("maildir: no free name in " + *dir + "/tmp");
}

MaildirDelivery::MaildirDelivery(int fd, std::string dir, std::string unique)
    : fd_(fd), dir_(std::move(dir)), unique_(std::move(unique)) {}

MaildirDelivery::MaildirDelivery(MaildirDelivery&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      dir_(std::move(other.dir_)),
      unique_(std::move(other.unique_)),
      size_bytes_(other.size_bytes_),
      pending_cr_(other.pending_cr_),
      committed_(other.committed_),
      error_(std::move(other.error_)) {
  other.committed_ = true;  // nothing left for the moved-from object to clean up
}

MaildirDelivery& MaildirDelivery::operator=(MaildirDelivery&& other) noexcept {
  if (this != &other) {
    abort();
    fd_ = std::exchange(other.fd_, -1);
    dir_ = std::move(other.dir_);
    unique_ = std::move(other.unique_);
    size_bytes_ = other.size_bytes_;
    pending_cr_ = other.pending_cr_;
    committed_ = std::exchange(other.committed_, true);
    error_ = std::move(other.error_);
  }
  return *this;
}

MaildirDelivery::~MaildirDelivery() {
  abort();
}

void MaildirDelivery::abort() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (!committed_ && !unique_.empty()) {
    ::unlink((dir_ + "/tmp/" + unique_).c_str());
  }
  committed_ = true;
}

Status MaildirDelivery::fail(Status status) {
  abort();
  error_ = status;
  return status;
}

Status MaildirDelivery::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return fail(errno_status("write " + dir_ + "/tmp/" + unique_, n < 0 ? errno : EIO));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
    size_bytes_ += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status MaildirDelivery::append(std::string_view wire_bytes) {
  if (!error_.ok()) {
    return error_;
  }
  RM_ASSERT_MSG(fd_ >= 0, "append after commit");
  if (wire_bytes.empty()) {
    return Status::Ok();
  }
  std::string out;
  out.reserve(wire_bytes.size() + 1);
  if (pending_cr_ && wire_bytes.front() != '\n') {
    out += '\r';
  }
  pending_cr_ = false;
  for (size_t i = 0; i < wire_bytes.size(); ++i) {
    const char c = wire_bytes[i];
    if (c != '\r') {
      out += c;
    } else if (i + 1 == wire_bytes.size()) {
      pending_cr_ = true;
    } else if (wire_bytes[i + 1] != '\n') {
      out += '\r';
    }
  }
  return write_all(out);
}

Result<std::string> MaildirDelivery::commit() {
  if (!error_.ok()) {
    return error_;
  }
  RM_ASSERT_MSG(fd_ >= 0, "commit twice");
  if (pending_cr_) {
    pending_cr_ = false;
    RM_RETURN_IF_ERROR(write_all("\r"));
  }
  const std::string tmp_path = dir_ + "/tmp/" + unique_;
  if (::fsync(fd_) != 0) {
    return fail(errno_status("fsync " + tmp_path, errno));
  }
  if (::close(std::exchange(fd_, -1)) != 0) {
    return fail(errno_status("close " + tmp_path, errno));
  }
  const std::string new_path = dir_ + "/new/" + unique_ + ",S=" + std::to_string(size_bytes_);
  if (rename_no_replace(tmp_path, new_path) != 0) {
    return fail(errno_status("rename " + tmp_path + " " + new_path, errno));
  }
  committed_ = true;
  Status synced = fsync_dir(dir_ + "/new");
  if (!synced.ok()) {
    // Not durable, so not delivered: the queue will try again, and must not find a copy.
    ::unlink(new_path.c_str());
    error_ = synced;
    return synced;
  }
  return new_path;
}

Result<std::string> deliver_to_maildir(const MaildirTarget& target,
                                       std::span<const std::string> header_lines,
                                       std::span<const std::string_view> body) {
  Result<MaildirDelivery> delivery = MaildirDelivery::begin(target, header_lines);
  if (!delivery.ok()) {
    return delivery.status();
  }
  for (std::string_view piece : body) {
    RM_RETURN_IF_ERROR(delivery->append(piece));
  }
  return delivery->commit();
}

}  // namespace rm
