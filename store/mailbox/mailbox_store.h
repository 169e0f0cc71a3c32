// MailboxStore: the accounts' mailboxes in the database — what local delivery writes and
// IMAP/POP3 read: per mailbox UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, counts; per message its
// UID, MODSEQ, flags, internal date, size and where its body is.
//
// Bodies are not copied: an entry lists the BodyStore extents of the queued message it came
// from (one copy for every local recipient), and takes a reference on their segments —
// in memory (BodyStore::add_refs) and durably ("R" counters, merged in the same write), so
// recovery at start knows which segments mailboxes still need without scanning them.
//
// Thread-safety: every function blocks (RocksDB, files): lanes and admin threads only.
// Writers read-modify-write a mailbox's counters, so every write to one account must come
// from one thread at a time: the lane of the shard that owns the account (DESIGN §1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/base/status.h"
#include "store/body/body_store.h"
#include "store/db/database.h"
#include "store/mailbox/mailbox_records.h"

namespace rm {

inline constexpr std::string_view kInbox = "INBOX";

struct MailboxDelivery {
  std::string account;  // lower-case address
  std::string mailbox = std::string(kInbox);
  std::vector<BodyExtent> extents;  // the body in segment files, or...
  std::string inline_body;          // ...its bytes, when it is not in segment files
  uint64_t size = 0;
  int64_t internal_date_ms = 0;
  uint8_t flags = 0;
  uint64_t queue_id = 0;
  // Filled by deliver().
  Status status;
  uint32_t uidvalidity = 0;
  uint32_t uid = 0;
};

class MailboxStore {
 public:
  // Appends every delivery in one synced write (creating a missing mailbox), then fills in
  // each one's status, UIDVALIDITY and UID. Returns the write's status.
  static Status deliver(Database& db, BodyStore& bodies, std::vector<MailboxDelivery>& deliveries,
                        int64_t now_ms);

  static Result<std::optional<MailboxInfo>> mailbox(Database& db, std::string_view account,
                                                    std::string_view name);
  static Result<std::vector<std::string>> mailbox_names(Database& db, std::string_view account);
  // The entries of one mailbox in UID order (an empty list when it does not exist).
  static Result<std::vector<MessageEntry>> messages(Database& db, std::string_view account,
                                                    std::string_view name);
  static Result<std::string> read_body(BodyStore& bodies, const MessageEntry& entry);

  // Removes the messages with these UIDs (an expunge), releasing their bodies.
  static Status remove(Database& db, BodyStore& bodies, std::string_view account,
                       std::string_view name, const std::vector<uint32_t>& uids);

  // Per body segment, how many mailbox messages reference it (for BodyStore recovery).
  static Result<std::unordered_map<uint64_t, uint64_t>> segment_refs(Database& db);
};

}  // namespace rm
