// The mailbox store's records and keys in the `mailbox` column family.
//
//   "M" account 0x00 mailbox-name            -> MailboxInfo
//   "E" account 0x00 be32(mailbox id) be32(uid) -> MessageEntry
//   "A" account                              -> next mailbox id (varint)
//   "R" be64(segment)                        -> how many mailbox messages reference that body
//                                               segment (int64, little-endian; merge: add)
//   "S" account 0x00 mailbox-name            -> "" (the account subscribes to that name)
//
// Accounts are lower-case addresses and never contain 0x00, so an account's keys share a
// prefix no other account's keys start with; entries of one mailbox sort by UID.
// Untrusted input: decoders read bytes from disk (maybe corrupt): every length is checked.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/status.h"
#include "store/body/body_extent.h"

namespace rm {

// IMAP system flags (RFC 9051 §2.3.2) as bits of MessageEntry::flags.
inline constexpr uint8_t kFlagSeen = 1;
inline constexpr uint8_t kFlagAnswered = 2;
inline constexpr uint8_t kFlagFlagged = 4;
inline constexpr uint8_t kFlagDeleted = 8;
inline constexpr uint8_t kFlagDraft = 16;

inline constexpr size_t kMailboxNameBytesMax = 1024;
inline constexpr size_t kKeywordsMax = 256;
inline constexpr size_t kKeywordBytesMax = 256;
inline constexpr size_t kInlineBodyBytesMax = 1 << 20;
inline constexpr size_t kMimeStructureBytesMax = 1 << 20;

// SPECIAL-USE attributes (RFC 6154) as bits of MailboxInfo::special_use.
inline constexpr uint8_t kUseSent = 1;
inline constexpr uint8_t kUseDrafts = 2;
inline constexpr uint8_t kUseTrash = 4;
inline constexpr uint8_t kUseJunk = 8;
inline constexpr uint8_t kUseArchive = 16;
inline constexpr uint8_t kUseAll = 31;

struct MailboxInfo {
  uint32_t id = 0;
  uint32_t uidvalidity = 0;
  uint32_t uidnext = 1;
  uint64_t highest_modseq = 1;
  uint32_t messages = 0;
  uint64_t bytes = 0;
  uint8_t special_use = 0;

  friend bool operator==(const MailboxInfo&, const MailboxInfo&) = default;
};

struct MessageEntry {
  uint32_t uid = 0;
  uint64_t modseq = 0;
  uint8_t flags = 0;
  std::vector<std::string> keywords;
  int64_t internal_date_ms = 0;
  uint64_t size = 0;
  std::vector<BodyExtent> extents;  // the body in the BodyStore, or...
  std::string inline_body;          // ...here, when it was not in segment files
  uint64_t queue_id = 0;            // the queued message it was delivered from (0: none)
  std::string mime;                 // its parsed MIME structure (proto/mime), once computed

  friend bool operator==(const MessageEntry&, const MessageEntry&) = default;
};

namespace mailbox_keys {
std::string account_key(std::string_view account);
std::string mailbox_key(std::string_view account, std::string_view name);
// Every mailbox of `account` starts with this.
std::string mailbox_prefix(std::string_view account);
std::string entry_key(std::string_view account, uint32_t mailbox_id, uint32_t uid);
// Every entry of one mailbox starts with this.
std::string entry_prefix(std::string_view account, uint32_t mailbox_id);
std::string segment_refs_key(uint64_t segment);
std::string subscription_prefix(std::string_view account);
std::string subscription_key(std::string_view account, std::string_view name);
// The UID of an entry key (its last 4 bytes); 0 when the key is too short.
uint32_t uid_of_entry_key(std::string_view key);
}  // namespace mailbox_keys

std::string encode_mailbox_info(const MailboxInfo& info);
Result<MailboxInfo> decode_mailbox_info(std::string_view bytes);
// `entry.uid` is not encoded: it is in the key.
std::string encode_message_entry(const MessageEntry& entry);
Result<MessageEntry> decode_message_entry(std::string_view bytes, uint32_t uid);

// The 8-byte value a segment reference count's merge operand carries.
std::string encode_ref_delta(int64_t delta);
int64_t decode_ref_count(std::string_view bytes);  // 0 for a malformed value

}  // namespace rm
