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
#include "store/body/body_allocator.h"
#include "store/body/body_store.h"
#include "store/body/segment_writer.h"
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
  uint64_t modseq = 0;
};

enum class FlagMode : uint8_t { kReplace, kAdd, kRemove };

// A STORE: how to change the flags of some messages.
struct FlagChange {
  FlagMode mode = FlagMode::kReplace;
  uint8_t flags = 0;
  std::vector<std::string> keywords;
  uint64_t unchanged_since = 0;  // CONDSTORE UNCHANGEDSINCE; 0: no condition
};

struct FlagChangeResult {
  std::vector<MessageEntry> changed;  // uid, modseq, flags, keywords (no body fields)
  std::vector<uint32_t> modified;     // failed UNCHANGEDSINCE
  uint64_t highest_modseq = 0;
};

struct CopyResult {
  uint32_t uidvalidity = 0;               // of the destination
  std::vector<uint32_t> source_uids;      // the messages copied, in order...
  std::vector<MessageEntry> copies;       // ...and their copies (no body fields)
  uint64_t source_highest_modseq = 0;     // after a move removed them from the source
};

struct MailboxListing {
  std::string name;
  MailboxInfo info;
};

// Writes the bodies of appended messages into the BodyStore; one per shard, used only by
// that shard's lane jobs (see SegmentWriter).
class AppendWriter {
 public:
  AppendWriter(BodyStore& bodies, uint64_t segment_bytes)
      : allocator_(bodies, segment_bytes), writer_(bodies) {}
  // Writes `body` (not yet synced); its extents come back.
  Result<std::vector<BodyExtent>> write(std::string_view body);
  // Syncs what was written, then seals the segments the allocator left behind.
  Status sync();

 private:
  BodyAllocator allocator_;
  SegmentWriter writer_;
  std::vector<uint64_t> to_seal_;
};

// One message to APPEND (MailboxStore::append_many).
struct AppendRequest {
  std::string account;
  std::string mailbox;
  std::string body;
  uint8_t flags = 0;
  std::vector<std::string> keywords;
  int64_t internal_date_ms = 0;
  // Filled in: the status, the entry (with its UID, no body fields) and UIDVALIDITY.
  Status status;
  MessageEntry entry;
  uint32_t uidvalidity = 0;
};

class MailboxStore {
 public:
  // Appends every delivery in one synced write (creating a missing mailbox), then fills in
  // each one's status, UIDVALIDITY and UID. Returns the write's status.
  static Status deliver(Database& db, BodyStore& bodies, std::vector<MailboxDelivery>& deliveries,
                        int64_t now_ms);

  // The id the account's next new mailbox gets (1 for a new account).
  static Result<uint32_t> next_mailbox_id(Database& db, std::string_view account);
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

  // -- what IMAP and POP3 change (lane jobs of the owner shard, like deliver) --

  // STORE: changes the flags of the messages `uids` that exist; each changed message gets a
  // new MODSEQ. Messages whose MODSEQ is above change.unchanged_since are left alone and
  // listed in `modified`.
  static Result<FlagChangeResult> change_flags(Database& db, std::string_view account,
                                               std::string_view name,
                                               const std::vector<uint32_t>& uids,
                                               const FlagChange& change);
  // APPEND: stores `body` (inline when small, else through `writer`) as a new message.
  // Returns the entry (with its UID, no body fields) and the mailbox's UIDVALIDITY.
  static Result<std::pair<MessageEntry, uint32_t>> append(Database& db, BodyStore& bodies,
                                                          AppendWriter& writer,
                                                          std::string_view account,
                                                          std::string_view name,
                                                          std::string_view body, uint8_t flags,
                                                          std::vector<std::string> keywords,
                                                          int64_t internal_date_ms);
  // Many APPENDs (to any mailboxes) in one synced write: bodies first, then the entries.
  // Each request gets its own status (NotFound for a missing mailbox); the result is the
  // write's.
  static Status append_many(Database& db, BodyStore& bodies, AppendWriter& writer,
                            std::vector<AppendRequest>& requests);
  // COPY / MOVE: the copies share the bodies (a reference each). NotFound when `to` does
  // not exist.
  static Result<CopyResult> copy(Database& db, BodyStore& bodies, std::string_view account,
                                 std::string_view from, std::string_view to,
                                 const std::vector<uint32_t>& uids, bool move);
  // The message's entry with its body location; nullopt when it is gone.
  static Result<std::optional<MessageEntry>> entry(Database& db, std::string_view account,
                                                   const MailboxInfo& info, uint32_t uid);
  // The entries of these UIDs with their body locations, in the order given; missing ones
  // are left out. One iterator serves the whole list: a UID just above the previous one
  // (the usual ascending list) costs a step, not a lookup.
  static Result<std::vector<MessageEntry>> entries(Database& db, std::string_view account,
                                                   const MailboxInfo& info,
                                                   const std::vector<uint32_t>& uids);
  // Keeps a computed MIME structure with the entry (not synced: it can be computed again).
  static Status set_mime(Database& db, std::string_view account, const MailboxInfo& info,
                         const MessageEntry& entry);

  // AlreadyExists when the name is taken.
  static Status create_mailbox(Database& db, std::string_view account, std::string_view name,
                               uint8_t special_use, int64_t now_ms);
  // Deletes the mailbox and its messages. NotFound when it does not exist.
  static Status delete_mailbox(Database& db, BodyStore& bodies, std::string_view account,
                               std::string_view name);
  // Renames `from` (and every mailbox below it, "from/...") to `to`. Renaming INBOX moves
  // its messages to `to` and leaves an empty INBOX (RFC 9051 §6.3.6).
  static Status rename_mailbox(Database& db, std::string_view account, std::string_view from,
                               std::string_view to, int64_t now_ms);
  static Result<std::vector<MailboxListing>> list_mailboxes(Database& db,
                                                            std::string_view account);
  static Status set_subscribed(Database& db, std::string_view account, std::string_view name,
                               bool subscribed);
  static Result<std::vector<std::string>> subscriptions(Database& db, std::string_view account);

  // Per body segment, how many mailbox messages reference it (for BodyStore recovery).
  static Result<std::unordered_map<uint64_t, uint64_t>> segment_refs(Database& db);
};

}  // namespace rm
