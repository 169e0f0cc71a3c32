// MailboxView: the in-memory state of one mailbox on the shard that owns its account — what
// IMAP and POP3 sessions read (UIDs, flags, MODSEQs, sizes, dates) without asking the store,
// and what tells them about changes.
//
// The store stays the truth: every change is written by a lane job first, and the view is
// updated from that job's result on the shard thread (apply_*). Sessions keep a snapshot of
// the UID list they last saw (a shared, immutable vector: sessions that are up to date
// share one), compare it with uids() when they may report changes, and read flags here.
// Watchers are told after each change (IDLE answers at once; others at their next command).
//
// Keywords are interned per mailbox (up to kKeywordSlots distinct ones): a message's
// keywords are a bit mask into keyword_names().
// Thread-safety: the owner shard's thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/mailbox/mailbox_records.h"

namespace rm {

inline constexpr size_t kKeywordSlots = 64;

struct MessageMeta {
  uint32_t uid = 0;
  uint8_t flags = 0;
  uint64_t keywords = 0;  // bits into MailboxView::keyword_names()
  uint64_t modseq = 0;
  uint64_t size = 0;
  int64_t internal_date_ms = 0;
};

using UidList = std::vector<uint32_t>;

class MailboxWatcher {
 public:
  virtual ~MailboxWatcher() = default;
  virtual void mailbox_changed() = 0;
};

class MailboxView {
 public:
  MailboxView(std::string account, std::string name, const MailboxInfo& info,
              const std::vector<MessageEntry>& entries);

  const std::string& account() const { return account_; }
  const std::string& name() const { return name_; }
  const MailboxInfo& info() const { return info_; }
  uint32_t uidvalidity() const { return info_.uidvalidity; }
  uint32_t uidnext() const { return info_.uidnext; }
  uint64_t highest_modseq() const { return info_.highest_modseq; }
  size_t size() const { return messages_.size(); }
  uint32_t unseen() const;
  uint32_t deleted() const;

  // The current UIDs in order (shared; replaced, never changed, when messages come or go).
  const std::shared_ptr<const UidList>& uids() const { return uids_; }
  // The message with this UID, or nullptr.
  const MessageMeta* find(uint32_t uid) const;
  const std::vector<MessageMeta>& messages() const { return messages_; }

  const std::vector<std::string>& keyword_names() const { return keywords_; }
  // Bits for these keywords, interning new ones; false when the table is full.
  bool keyword_bits(const std::vector<std::string>& names, uint64_t& bits);
  std::vector<std::string> keyword_list(uint64_t bits) const;

  // -- changes, from lane results (the store already has them) --
  void apply_added(const std::vector<MessageEntry>& entries, uint32_t uidnext,
                   uint64_t highest_modseq);
  void apply_flags(const std::vector<MessageEntry>& changed, uint64_t highest_modseq);
  void apply_removed(const std::vector<uint32_t>& uids, uint64_t highest_modseq);
  // Tells the watchers (after a batch of apply_* calls).
  void notify();
  // The mailbox was deleted or renamed: sessions that have it selected must let it go.
  void mark_gone() {
    gone_ = true;
    notify();
  }
  bool gone() const { return gone_; }

  void watch(MailboxWatcher* watcher);
  void unwatch(MailboxWatcher* watcher);
  size_t watchers() const { return watchers_.size(); }

 private:
  MessageMeta meta_of(const MessageEntry& e);
  void rebuild_uids();

  const std::string account_;
  const std::string name_;
  MailboxInfo info_;
  std::vector<MessageMeta> messages_;  // by UID
  std::shared_ptr<const UidList> uids_;
  std::vector<std::string> keywords_;
  std::vector<MailboxWatcher*> watchers_;
  bool gone_ = false;
};

}  // namespace rm
