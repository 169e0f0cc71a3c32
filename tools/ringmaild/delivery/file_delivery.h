// Delivery into files other programs read: Maildir and mbox (store/maildir, store/mbox),
// with the Return-Path and Delivered-To headers local delivery adds.
// Thread-safety: blocking file I/O: run on a blocking lane, never a reactor thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"

namespace rm {

struct FileDelivery {
  enum class Kind : uint8_t { kMaildir, kMbox };
  Kind kind = Kind::kMaildir;
  std::string path;       // the Maildir root or the mbox file
  std::string recipient;  // for Delivered-To
  Status status;          // filled in
  // Maildir only: a Maildir++ folder ("Junk" -> <root>/.Junk) instead of the INBOX; a '/'
  // in it (the store's hierarchy delimiter) becomes Maildir++'s '.'.
  std::string folder;
};

// Writes `body` (wire form, CRLF) to every target; each gets its own status.
void deliver_files(std::vector<FileDelivery>& targets, std::string_view sender,
                   std::string_view body, int64_t arrival_unix_s, const std::string& hostname);

}  // namespace rm
