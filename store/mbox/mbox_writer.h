// mbox_append: appends one message to an mbox file in the mboxrd format, as Postfix's
// local(8) writes it and mutt, Dovecot and Python's mailbox.mbox read it.
//
// The message is written as
//   "From <sender or MAILER-DAEMON> <asctime date, UTC>\n"
//   header lines, then the body, with CRLF → LF and mboxrd quoting: one '>' is added to
//   every line matching ^>*From  (so a reader that strips one '>' gets the original back)
//   a final LF when the body lacks one, then one empty line.
// Before writing, the file is locked the way Postfix does by default on Linux: a dotlock
// "<path>.lock" (created O_EXCL; one older than dotlock_stale_s is removed as stale), then
// an fcntl write lock on the whole file (an open-file-description lock, which excludes other
// threads of this process too, and conflicts with the classic F_SETLK locks of other
// programs). Both are retried until lock_wait_ms has passed, then Unavailable is returned
// (a temporary failure: try again later). The data is fsynced before the locks are dropped;
// after a failed write or fsync the file is truncated back to its size before the append,
// so a partial message never stays in the mailbox.
// Errors: Unavailable (locked), ResourceExhausted (ENOSPC/EDQUOT), InvalidArgument (not a
// regular file, a header line with CR/LF), IoError naming the system call otherwise.
//
// Untrusted input: the body is copied and only scanned for line starts ("From " quoting).
// The sender is written into the From_ line with spaces and control bytes replaced by '_'.
// Thread-safety: mbox_append may run on several threads (and processes) at once, also on the
// same file; the locks serialize the appends. It blocks (file system, lock waits): run it on
// a blocking lane, never on a reactor thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm {

struct MboxOptions {
  // How long to keep trying for the dotlock and the fcntl lock together.
  int64_t lock_wait_ms = 10000;
  // A dotlock older than this is left over from a crash and is removed.
  int64_t dotlock_stale_s = 300;
  // Take "<path>.lock" too (needs write access to the directory).
  bool dotlock = true;
};

struct MboxMessage {
  std::string_view sender;     // the envelope sender; "" (the null sender) → MAILER-DAEMON
  int64_t arrival_unix_s = 0;  // the From_ line's date
  std::span<const std::string> header_lines;  // written first, each followed by LF
  std::span<const std::string_view> body;     // wire form (CRLF), in pieces
};

Status mbox_append(const std::string& path, const MboxMessage& message,
                   const MboxOptions& options = {});

// The From_ line without its LF: "From sender Thu Nov 24 18:22:48 1986" (UTC).
std::string mbox_from_line(std::string_view sender, int64_t unix_s);

}  // namespace rm
