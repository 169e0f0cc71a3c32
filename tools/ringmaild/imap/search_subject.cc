#include "tools/ringmaild/imap/search_subject.h"

#include "proto/imap/flags.h"
#include "proto/mime/encoded_word.h"
#include "proto/mime/header.h"
#include "proto/mime/section.h"

namespace rm {
namespace {

constexpr size_t kHeaderBytesMax = 256 * 1024;

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

}  // namespace

uint32_t StoredSearchSubject::system_flags() const {
  uint32_t out = 0;
  if (meta_.flags & kFlagSeen) out |= imap::kFlagSeen;
  if (meta_.flags & kFlagAnswered) out |= imap::kFlagAnswered;
  if (meta_.flags & kFlagFlagged) out |= imap::kFlagFlagged;
  if (meta_.flags & kFlagDeleted) out |= imap::kFlagDeleted;
  if (meta_.flags & kFlagDraft) out |= imap::kFlagDraft;
  return out;
}

bool StoredSearchSubject::has_keyword(std::string_view keyword) const {
  for (const std::string& k : view_.keyword_list(meta_.keywords)) {
    if (imap::keyword_equal(k, keyword)) return true;
  }
  return false;
}

std::string_view StoredSearchSubject::header_block() {
  if (stored_ == nullptr) return {};
  return std::string_view(stored_->body).substr(0, mime::header_block_size(stored_->body, kHeaderBytesMax));
}

std::span<const std::string> StoredSearchSubject::header_values(std::string_view name) {
  const std::string key = upper(name);
  auto it = headers_.find(key);
  if (it == headers_.end()) {
    std::vector<std::string> values;
    mime::HeaderFieldReader reader(header_block());
    mime::HeaderField field;
    while (reader.next(field)) {
      if (mime::header_name_equals(field.name, name)) {
        values.push_back(mime::decode_header_value(field.raw_value));
      }
    }
    it = headers_.emplace(key, std::move(values)).first;
  }
  return it->second;
}

std::string_view StoredSearchSubject::body_text() {
  if (!body_text_) {
    body_text_.emplace();
    if (stored_ != nullptr) {
      Result<mime::MimeTree> tree = mime::parse_mime(stored_->body);
      if (tree.ok()) *body_text_ = mime::body_text_utf8(*tree, stored_->body);
    }
  }
  return *body_text_;
}

std::string_view StoredSearchSubject::full_text() {
  if (!full_text_) {
    std::string text;
    mime::HeaderFieldReader reader(header_block());
    mime::HeaderField field;
    while (reader.next(field)) {
      text.append(field.name);
      text += ": ";
      text += mime::decode_header_value(field.raw_value);
      text += '\n';
    }
    text += body_text();
    full_text_ = std::move(text);
  }
  return *full_text_;
}

}  // namespace rm
