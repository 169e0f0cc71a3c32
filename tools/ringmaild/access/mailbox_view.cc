#include "tools/ringmaild/access/mailbox_view.h"

#include <algorithm>

#include "core/base/assert.h"

namespace rm {
namespace {

bool same_keyword(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const char x = static_cast<char>(a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i]);
    const char y = static_cast<char>(b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]);
    if (x != y) return false;
  }
  return true;
}

}  // namespace

MailboxView::MailboxView(std::string account, std::string name, const MailboxInfo& info,
                         const std::vector<MessageEntry>& entries)
    : account_(std::move(account)), name_(std::move(name)), info_(info) {
  messages_.reserve(entries.size());
  for (const MessageEntry& e : entries) {
    messages_.push_back(meta_of(e));
  }
  std::sort(messages_.begin(), messages_.end(),
            [](const MessageMeta& a, const MessageMeta& b) { return a.uid < b.uid; });
  info_.messages = static_cast<uint32_t>(messages_.size());
  rebuild_uids();
}

uint32_t MailboxView::unseen() const {
  uint32_t n = 0;
  for (const MessageMeta& m : messages_) n += (m.flags & kFlagSeen) ? 0 : 1;
  return n;
}

uint32_t MailboxView::deleted() const {
  uint32_t n = 0;
  for (const MessageMeta& m : messages_) n += (m.flags & kFlagDeleted) ? 1 : 0;
  return n;
}

const MessageMeta* MailboxView::find(uint32_t uid) const {
  auto it = std::lower_bound(messages_.begin(), messages_.end(), uid,
                             [](const MessageMeta& m, uint32_t u) { return m.uid < u; });
  return it != messages_.end() && it->uid == uid ? &*it : nullptr;
}

bool MailboxView::keyword_bits(const std::vector<std::string>& names, uint64_t& bits) {
  bits = 0;
  for (const std::string& name : names) {
    size_t i = 0;
    while (i < keywords_.size() && !same_keyword(keywords_[i], name)) ++i;
    if (i == keywords_.size()) {
      if (keywords_.size() == kKeywordSlots) return false;
      keywords_.push_back(name);
    }
    bits |= uint64_t{1} << i;
  }
  return true;
}

std::vector<std::string> MailboxView::keyword_list(uint64_t bits) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < keywords_.size(); ++i) {
    if (bits & (uint64_t{1} << i)) out.push_back(keywords_[i]);
  }
  return out;
}

MessageMeta MailboxView::meta_of(const MessageEntry& e) {
  MessageMeta m;
  m.uid = e.uid;
  m.flags = e.flags;
  m.modseq = e.modseq;
  m.size = e.size;
  m.internal_date_ms = e.internal_date_ms;
  // A keyword beyond the table's capacity is kept in the store but not shown.
  for (const std::string& k : e.keywords) {
    uint64_t bit = 0;
    if (keyword_bits({k}, bit)) m.keywords |= bit;
  }
  return m;
}

void MailboxView::rebuild_uids() {
  auto uids = std::make_shared<UidList>();
  uids->reserve(messages_.size());
  for (const MessageMeta& m : messages_) uids->push_back(m.uid);
  uids_ = std::move(uids);
}

void MailboxView::apply_added(const std::vector<MessageEntry>& entries, uint32_t uidnext,
                              uint64_t highest_modseq) {
  bool sorted = true;
  for (const MessageEntry& e : entries) {
    if (find(e.uid) != nullptr) continue;
    sorted = sorted && (messages_.empty() || messages_.back().uid < e.uid);
    messages_.push_back(meta_of(e));
    info_.bytes += e.size;
  }
  if (!sorted) {
    std::sort(messages_.begin(), messages_.end(),
              [](const MessageMeta& a, const MessageMeta& b) { return a.uid < b.uid; });
  }
  info_.messages = static_cast<uint32_t>(messages_.size());
  info_.uidnext = std::max(info_.uidnext, uidnext);
  info_.highest_modseq = std::max(info_.highest_modseq, highest_modseq);
  rebuild_uids();
}

void MailboxView::apply_flags(const std::vector<MessageEntry>& changed, uint64_t highest_modseq) {
  for (const MessageEntry& e : changed) {
    auto* m = const_cast<MessageMeta*>(find(e.uid));
    if (m == nullptr) continue;
    const MessageMeta fresh = meta_of(e);
    m->flags = fresh.flags;
    m->keywords = fresh.keywords;
    m->modseq = fresh.modseq;
  }
  info_.highest_modseq = std::max(info_.highest_modseq, highest_modseq);
}

void MailboxView::apply_removed(const std::vector<uint32_t>& uids, uint64_t highest_modseq) {
  if (!uids.empty()) {
    std::vector<uint32_t> gone(uids);
    std::sort(gone.begin(), gone.end());
    std::erase_if(messages_, [&](const MessageMeta& m) {
      if (std::binary_search(gone.begin(), gone.end(), m.uid)) {
        info_.bytes -= std::min(info_.bytes, m.size);
        return true;
      }
      return false;
    });
    info_.messages = static_cast<uint32_t>(messages_.size());
    rebuild_uids();
  }
  info_.highest_modseq = std::max(info_.highest_modseq, highest_modseq);
}

void MailboxView::notify() {
  // A watcher may unwatch (or watch another) while being told: iterate over a copy.
  const std::vector<MailboxWatcher*> watchers = watchers_;
  for (MailboxWatcher* w : watchers) {
    if (std::find(watchers_.begin(), watchers_.end(), w) != watchers_.end()) {
      w->mailbox_changed();
    }
  }
}

void MailboxView::watch(MailboxWatcher* watcher) {
  RM_ASSERT(watcher != nullptr);
  watchers_.push_back(watcher);
}

void MailboxView::unwatch(MailboxWatcher* watcher) { std::erase(watchers_, watcher); }

}  // namespace rm
