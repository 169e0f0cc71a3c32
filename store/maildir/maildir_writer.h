// MaildirWriter: delivers one message into a Maildir (cr.yp.to/proto/maildir.html) or a
// Maildir++ subfolder, the way Dovecot and Courier read them.
//
// A delivery creates tmp/<unique> (O_CREAT|O_EXCL, 0600), writes the given header lines and
// then the body, fsyncs the file, moves it to new/<unique>,S=<size> (never replacing a file)
// and fsyncs new/. Only then is the message delivered; on any error the file is removed from
// tmp/ (or from new/ when the final directory sync failed) and the error is returned:
// ResourceExhausted for ENOSPC/EDQUOT, IoError naming the system call otherwise.
//
// The queue keeps messages in wire form (CRLF); Maildir files use LF, so every CRLF is
// written as LF, also when the CR and the LF arrive in different pieces. Bare CR and bare LF
// are written as they are.
//
// Unique names: "<unix seconds>.M<microseconds>P<pid>Q<counter>.<hostname>" where the counter
// is process-wide, and the hostname has '/' written as "\057" and ':' as "\072".
//
// Untrusted input: the message body is copied, never parsed. Header lines and folder names
// come from the caller and are checked (no CR/LF in a header line; a folder name is one or
// more '.'-separated non-empty components without '/').
// Thread-safety: a MaildirDelivery belongs to one thread; different deliveries may run on
// different threads at once, also into the same Maildir. Every call blocks on the file
// system: run them on a blocking lane, never on a reactor thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/base/status.h"

namespace rm {

struct MaildirTarget {
  std::string root;      // the Maildir (INBOX): holds cur/, new/, tmp/
  std::string folder;    // "" for INBOX, else a Maildir++ folder name without the leading dot
                         // ("Spam", "Archive.2024" → <root>/.Spam, <root>/.Archive.2024)
  std::string hostname;  // for unique names; "" = gethostname()
};

// One message being written into tmp/. Destroying it before commit() succeeds removes the
// file from tmp/.
class MaildirDelivery {
 public:
  // Creates the Maildir's cur/, new/ and tmp/ (mode 0700) where missing, also the root and,
  // for a folder, the folder's own directories and its "maildirfolder" marker file, then
  // opens a new file in tmp/ and writes `header_lines` to it, each followed by LF.
  static Result<MaildirDelivery> begin(const MaildirTarget& target,
                                       std::span<const std::string> header_lines);

  MaildirDelivery(MaildirDelivery&& other) noexcept;
  MaildirDelivery& operator=(MaildirDelivery&& other) noexcept;
  MaildirDelivery(const MaildirDelivery&) = delete;
  MaildirDelivery& operator=(const MaildirDelivery&) = delete;
  ~MaildirDelivery();

  // Appends the next piece of the body, in wire form (CRLF becomes LF). After an error the
  // delivery is aborted (the tmp file is gone) and every later call fails.
  Status append(std::string_view wire_bytes);
  // fsync, move to new/ and fsync new/. Returns the path of the delivered file.
  // REQUIRES: commit() has not succeeded before.
  Result<std::string> commit();

  // Bytes written to the file so far (LF line endings).
  uint64_t size_bytes() const { return size_bytes_; }

 private:
  MaildirDelivery(int fd, std::string dir, std::string unique);
  Status write_all(std::string_view bytes);
  Status fail(Status status);
  void abort();

  int fd_ = -1;
  std::string dir_;     // the Maildir (root or folder) the message goes into
  std::string unique_;  // the name in tmp/
  uint64_t size_bytes_ = 0;
  bool pending_cr_ = false;  // the last piece ended with CR: its LF may come next
  bool committed_ = false;
  Status error_;  // the first error; the delivery is dead once it is set
};

// The whole delivery in one call: begin, append every piece of `body`, commit.
Result<std::string> deliver_to_maildir(const MaildirTarget& target,
                                       std::span<const std::string> header_lines,
                                       std::span<const std::string_view> body);

// "\057" for '/', "\072" for ':', the rest unchanged (Maildir unique names).
std::string escape_maildir_hostname(std::string_view hostname);

}  // namespace rm
