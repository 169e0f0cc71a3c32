// mbox append: dotlock + fcntl lock, the From_ line, CRLF → LF with mboxrd quoting, fsync,
// and truncation back to the old size when anything fails after the first byte.
// Thread-safety: as mbox_writer.h says; no shared state.
#include "store/mbox/mbox_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/base/assert.h"
#include "core/base/clock.h"

namespace rm {

namespace {

constexpr size_t kFlushBytes = 64 * 1024;
constexpr int64_t kLockPollMsMax = 50;
constexpr std::string_view kFromSpace = "From ";

Status errno_status(std::string_view what, int err) {
  if (err == ENOSPC || err == EDQUOT) {
    return Status::ResourceExhausted(std::string(what) + ": " + std::strerror(err));
  }
  return Status::FromErrno(what, err);
}

void sleep_ms(int64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// Backs off 1, 2, 4, ... kLockPollMsMax ms; false once the deadline has passed.
bool wait_before_retry(int64_t deadline_ms, int64_t& poll_ms) {
  const int64_t now = monotonic_ms();
  if (now >= deadline_ms) {
    return false;
  }
  sleep_ms(std::min(poll_ms, deadline_ms - now));
  poll_ms = std::min(poll_ms * 2, kLockPollMsMax);
  return true;
}

// ---- locks ----

bool dotlock_is_stale(const std::string& lock_path, int64_t stale_s) {
  struct stat st;
  if (::stat(lock_path.c_str(), &st) != 0) {
    return false;  // gone meanwhile: the next attempt may succeed
  }
  return static_cast<int64_t>(::time(nullptr)) - static_cast<int64_t>(st.st_mtime) > stale_s;
}

Status take_dotlock(const std::string& lock_path, int64_t deadline_ms, int64_t stale_s) {
  int64_t poll_ms = 1;
  for (;;) {
    const int fd =
        ::open(lock_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      const ssize_t ignored = ::write(fd, pid.data(), pid.size());  // informative only
      (void)ignored;
      ::close(fd);
      return Status::Ok();
    }
    if (errno != EEXIST) {
      return errno_status("open " + lock_path, errno);
    }
    if (dotlock_is_stale(lock_path, stale_s)) {
      ::unlink(lock_path.c_str());
      continue;
    }
    if (!wait_before_retry(deadline_ms, poll_ms)) {
      return Status::Unavailable("mbox: " + lock_path + " is held by another process");
    }
  }
}

// One fcntl write lock attempt on the whole file. Open-file-description locks where the
// kernel has them (they also exclude other threads of this process), else POSIX locks.
int try_fcntl_lock(int fd) {
  struct flock fl;
  std::memset(&fl, 0, sizeof(fl));
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  if (::fcntl(fd, F_OFD_SETLK, &fl) == 0) {
    return 0;
  }
  if (errno != EINVAL) {
    return -1;
  }
  return ::fcntl(fd, F_SETLK, &fl);
}

Status take_fcntl_lock(int fd, const std::string& path, int64_t deadline_ms) {
  int64_t poll_ms = 1;
  for (;;) {
    if (try_fcntl_lock(fd) == 0) {
      return Status::Ok();
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno != EAGAIN && errno != EACCES) {
      return errno_status("fcntl lock " + path, errno);
    }
    if (!wait_before_retry(deadline_ms, poll_ms)) {
      return Status::Unavailable("mbox: " + path + " is locked by another process");
    }
  }
}

// ---- the message text ----

// CRLF → LF and mboxrd "From " quoting, for input that arrives in pieces. A '>' added
// anywhere in a line's leading run of '>' gives the same bytes, so the run is copied at once
// and only the (at most 5) bytes of a possible "From " wait for the decision.
class MboxText {
 public:
  void feed(std::string_view in, std::string& out) {
    for (char c : in) {
      if (pending_cr_) {
        pending_cr_ = false;
        if (c == '\n') {
          put('\n', out);
          continue;
        }
        put('\r', out);
      }
      if (c == '\r') {
        pending_cr_ = true;
      } else {
        put(c, out);
      }
    }
  }

  // Flushes what is held back, ends the last line and adds the separating empty line.
  void finish(std::string& out) {
    if (pending_cr_) {
      pending_cr_ = false;
      put('\r', out);
    }
    if (matched_ > 0) {
      out.append(kFromSpace.substr(0, matched_));
      matched_ = 0;
      state_ = State::kRest;
    }
    if (state_ != State::kLineStart) {
      out += '\n';
    }
    out += '\n';
    state_ = State::kLineStart;
  }

 private:
  enum class State { kLineStart, kQuotes, kFrom, kRest };

  void put(char c, std::string& out) {
    if (state_ == State::kLineStart || state_ == State::kQuotes) {
      if (c == '>') {
        out += c;
        state_ = State::kQuotes;
        return;
      }
      if (c == 'F') {
        matched_ = 1;
        state_ = State::kFrom;
        return;
      }
    } else if (state_ == State::kFrom) {
      if (c == kFromSpace[matched_]) {
        if (++matched_ == kFromSpace.size()) {
          out += ">From ";
          matched_ = 0;
          state_ = State::kRest;
        }
        return;
      }
      out.append(kFromSpace.substr(0, matched_));
      matched_ = 0;
    }
    out += c;
    state_ = c == '\n' ? State::kLineStart : State::kRest;
  }

  State state_ = State::kLineStart;
  size_t matched_ = 0;  // bytes of "From " matched at the start of the current line
  bool pending_cr_ = false;
};

bool header_line_ok(std::string_view line) {
  return line.find_first_of("\r\n") == std::string_view::npos;
}

constexpr const char* kWeekdays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// asctime() form, without its LF and independent of the locale: "Thu Nov  4 18:22:48 1986".
std::string asctime_utc(int64_t unix_s) {
  const time_t t = static_cast<time_t>(unix_s);
  struct tm tm;
  if (::gmtime_r(&t, &tm) == nullptr) {
    return "Thu Jan  1 00:00:00 1970";
  }
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s %s %2d %02d:%02d:%02d %d", kWeekdays[tm.tm_wday % 7],
                kMonths[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                tm.tm_year + 1900);
  return buf;
}

// ---- the file ----

// An open mbox and the locks held on it. Closing the descriptor drops the fcntl lock; the
// dotlock goes after it, so another writer never sees the file unlocked before we are done.
struct LockedMbox {
  int fd = -1;
  std::string dotlock_path;  // "" when no dotlock is held

  LockedMbox() = default;
  LockedMbox(const LockedMbox&) = delete;
  LockedMbox& operator=(const LockedMbox&) = delete;
  ~LockedMbox() {
    if (fd >= 0) {
      ::close(fd);
    }
    if (!dotlock_path.empty()) {
      ::unlink(dotlock_path.c_str());
    }
  }
};

Status open_locked(const std::string& path, const MboxOptions& options, LockedMbox& mbox) {
  const int64_t deadline_ms = monotonic_ms() + std::max<int64_t>(options.lock_wait_ms, 0);
  if (options.dotlock) {
    const std::string lock_path = path + ".lock";
    RM_RETURN_IF_ERROR(take_dotlock(lock_path, deadline_ms, options.dotlock_stale_s));
    mbox.dotlock_path = lock_path;
  }
  mbox.fd =
      ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
  if (mbox.fd < 0) {
    return errno_status("open " + path, errno);
  }
  struct stat st;
  if (::fstat(mbox.fd, &st) != 0) {
    return errno_status("fstat " + path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("mbox: " + path + " is not a regular file");
  }
  return take_fcntl_lock(mbox.fd, path, deadline_ms);
}

Status write_all(int fd, const std::string& path, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return errno_status("write " + path, n < 0 ? errno : EIO);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// True when the file is empty or ends with LF; a From_ line must start a line.
Result<bool> ends_with_newline(int fd, const std::string& path, off_t size) {
  if (size == 0) {
    return true;
  }
  char last = 0;
  if (::pread(fd, &last, 1, size - 1) != 1) {
    return errno_status("pread " + path, errno != 0 ? errno : EIO);
  }
  return last == '\n';
}

Status write_message(int fd, const std::string& path, off_t size_before,
                     const MboxMessage& message) {
  Result<bool> clean_end = ends_with_newline(fd, path, size_before);
  if (!clean_end.ok()) {
    return clean_end.status();
  }
  std::string out = *clean_end ? "" : "\n";
  out += mbox_from_line(message.sender, message.arrival_unix_s);
  out += '\n';
  MboxText text;
  for (const std::string& line : message.header_lines) {
    text.feed(line, out);
    text.feed("\n", out);
  }
  for (std::string_view piece : message.body) {
    text.feed(piece, out);
    if (out.size() >= kFlushBytes) {
      RM_RETURN_IF_ERROR(write_all(fd, path, out));
      out.clear();
    }
  }
  text.finish(out);
  RM_RETURN_IF_ERROR(write_all(fd, path, out));
  if (::fsync(fd) != 0) {
    return errno_status("fsync " + path, errno);
  }
  return Status::Ok();
}

}  // namespace

std::string mbox_from_line(std::string_view sender, int64_t unix_s) {
  std::string line = "From ";
  if (sender.empty()) {
    line += "MAILER-DAEMON";
  }
  for (char c : sender) {
    const auto byte = static_cast<unsigned char>(c);
    line += (byte <= 0x20 || byte == 0x7f) ? '_' : c;
  }
  line += ' ';
  line += asctime_utc(unix_s);
  return line;
}

Status mbox_append(const std::string& path, const MboxMessage& message,
                   const MboxOptions& options) {
  for (const std::string& line : message.header_lines) {
    if (!header_line_ok(line)) {
      return Status::InvalidArgument("mbox: header line with CR or LF");
    }
  }
  LockedMbox mbox;
  RM_RETURN_IF_ERROR(open_locked(path, options, mbox));
  struct stat st;
  if (::fstat(mbox.fd, &st) != 0) {
    return errno_status("fstat " + path, errno);
  }
  Status written = write_message(mbox.fd, path, st.st_size, message);
  if (!written.ok()) {
    // Cut the partial message off so that the mailbox still parses; we hold the locks.
    if (::ftruncate(mbox.fd, st.st_size) == 0) {
      ::fsync(mbox.fd);
    }
  }
  return written;
}

}  // namespace rm
