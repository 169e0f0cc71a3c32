// StoredSearchSubject: one message as IMAP SEARCH sees it (proto/imap/search.h) — flags,
// sizes and dates from the MailboxView, headers and text from the stored message when a key
// needs them (decoded once, on first use).
// Thread-safety: one search on one thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/imap/search.h"
#include "proto/mime/mime_tree.h"
#include "tools/ringmaild/access/account_hub.h"
#include "tools/ringmaild/access/mailbox_view.h"

namespace rm {

class StoredSearchSubject final : public imap::SearchSubject {
 public:
  StoredSearchSubject(uint32_t seq, const MessageMeta& meta, const MailboxView& view,
                      const StoredMessage* stored, bool in_saved)
      : seq_(seq), meta_(meta), view_(view), stored_(stored), in_saved_(in_saved) {}

  uint32_t sequence_number() const override { return seq_; }
  uint32_t uid() const override { return meta_.uid; }
  uint32_t system_flags() const override;
  bool has_keyword(std::string_view keyword) const override;
  uint64_t size() const override { return meta_.size; }
  int64_t internal_date() const override { return meta_.internal_date_ms / 1000; }
  uint64_t modseq() const override { return meta_.modseq; }
  bool in_saved_result() const override { return in_saved_; }
  std::span<const std::string> header_values(std::string_view name) override;
  std::string_view body_text() override;
  std::string_view full_text() override;

 private:
  std::string_view header_block();

  const uint32_t seq_;
  const MessageMeta& meta_;
  const MailboxView& view_;
  const StoredMessage* stored_;
  const bool in_saved_;
  std::map<std::string, std::vector<std::string>, std::less<>> headers_;
  std::optional<std::string> body_text_;
  std::optional<std::string> full_text_;
};

}  // namespace rm
