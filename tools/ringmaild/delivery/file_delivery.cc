#include "tools/ringmaild/delivery/file_delivery.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "store/maildir/maildir_writer.h"
#include "store/mbox/mbox_writer.h"

namespace rm {
namespace {

// Creates the directories leading to `path` (mode 0700), as local(8) does for a mailbox
// path whose parents do not exist yet.
Status make_parents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::FromErrno("mkdir " + dir, errno);
    }
  }
  return Status::Ok();
}

}  // namespace

void deliver_files(std::vector<FileDelivery>& targets, std::string_view sender,
                   std::string_view body, int64_t arrival_unix_s, const std::string& hostname) {
  const std::array<std::string_view, 1> pieces = {body};
  for (FileDelivery& t : targets) {
    t.status = make_parents(t.path);
    if (!t.status.ok()) {
      continue;
    }
    const std::array<std::string, 2> headers = {"Return-Path: <" + std::string(sender) + ">",
                                                "Delivered-To: " + t.recipient};
    if (t.kind == FileDelivery::Kind::kMbox) {
      t.status = mbox_append(t.path, MboxMessage{sender, arrival_unix_s, headers, pieces});
      continue;
    }
    std::string folder = t.folder;
    std::replace(folder.begin(), folder.end(), '/', '.');
    Result<std::string> file =
        deliver_to_maildir(MaildirTarget{t.path, folder, hostname}, headers, pieces);
    t.status = file.ok() ? Status::Ok() : file.status();
  }
}

}  // namespace rm
