#include "store/mailbox/mailbox_records.h"

#include <cstring>

#include "store/body/extent_codec.h"
#include "store/codec/binary_codec.h"

namespace rm {
namespace {

constexpr uint8_t kRecordVersion = 1;

std::string account_part(char kind, std::string_view account) {
  std::string key;
  key.reserve(account.size() + 16);
  key.push_back(kind);
  key.append(account);
  return key;
}

Status read_version(codec::Reader& r) {
  uint8_t version = 0;
  RM_RETURN_IF_ERROR(r.byte("version", 0xff, version));
  return version == kRecordVersion ? Status::Ok() : r.corrupt("version", "unknown version");
}

Status read_keywords(codec::Reader& r, std::vector<std::string>& out) {
  uint64_t count = 0;
  RM_RETURN_IF_ERROR(r.varint("keyword count", count));
  if (count > kKeywordsMax || count > r.remaining()) {
    return r.corrupt("keyword count", "too many keywords");
  }
  out.resize(count);
  for (std::string& keyword : out) {
    RM_RETURN_IF_ERROR(r.string("keyword", kKeywordBytesMax, keyword));
  }
  return Status::Ok();
}

}  // namespace

namespace mailbox_keys {

std::string account_key(std::string_view account) {
  return account_part('A', account);
}

std::string mailbox_prefix(std::string_view account) {
  std::string key = account_part('M', account);
  key.push_back('\0');
  return key;
}

std::string mailbox_key(std::string_view account, std::string_view name) {
  return mailbox_prefix(account) + std::string(name);
}

std::string entry_prefix(std::string_view account, uint32_t mailbox_id) {
  std::string key = account_part('E', account);
  key.push_back('\0');
  codec::put_be32(key, mailbox_id);
  return key;
}

std::string entry_key(std::string_view account, uint32_t mailbox_id, uint32_t uid) {
  std::string key = entry_prefix(account, mailbox_id);
  codec::put_be32(key, uid);
  return key;
}

std::string segment_refs_key(uint64_t segment) {
  std::string key = "R";
  codec::put_be64(key, segment);
  return key;
}

std::string subscription_prefix(std::string_view account) {
  std::string key = account_part('S', account);
  key.push_back('\0');
  return key;
}

std::string subscription_key(std::string_view account, std::string_view name) {
  return subscription_prefix(account) + std::string(name);
}

uint32_t uid_of_entry_key(std::string_view key) {
  return key.size() < 10 ? 0 : codec::get_be32(key.substr(key.size() - 4));
}

}  // namespace mailbox_keys

std::string encode_mailbox_info(const MailboxInfo& info) {
  std::string out;
  codec::put_byte(out, kRecordVersion);
  codec::put_varint(out, info.id);
  codec::put_varint(out, info.uidvalidity);
  codec::put_varint(out, info.uidnext);
  codec::put_varint(out, info.highest_modseq);
  codec::put_varint(out, info.messages);
  codec::put_varint(out, info.bytes);
  codec::put_byte(out, info.special_use);
  return out;
}

Result<MailboxInfo> decode_mailbox_info(std::string_view bytes) {
  codec::Reader r(bytes, "mailbox info");
  MailboxInfo info;
  RM_RETURN_IF_ERROR(read_version(r));
  RM_RETURN_IF_ERROR(r.u32("id", info.id));
  RM_RETURN_IF_ERROR(r.u32("uidvalidity", info.uidvalidity));
  RM_RETURN_IF_ERROR(r.u32("uidnext", info.uidnext));
  RM_RETURN_IF_ERROR(r.varint("highest_modseq", info.highest_modseq));
  RM_RETURN_IF_ERROR(r.u32("messages", info.messages));
  RM_RETURN_IF_ERROR(r.varint("bytes", info.bytes));
  if (r.remaining() > 0) {  // records written before SPECIAL-USE end here
    RM_RETURN_IF_ERROR(r.byte("special_use", kUseAll, info.special_use));
  }
  RM_RETURN_IF_ERROR(r.end());
  return info;
}

std::string encode_message_entry(const MessageEntry& e) {
  std::string out;
  codec::put_byte(out, kRecordVersion);
  codec::put_varint(out, e.modseq);
  codec::put_byte(out, e.flags);
  codec::put_varint(out, e.keywords.size());
  for (const std::string& keyword : e.keywords) {
    codec::put_string(out, keyword);
  }
  codec::put_varint(out, codec::zigzag(e.internal_date_ms));
  codec::put_varint(out, e.size);
  put_extents(out, e.extents);
  codec::put_string(out, e.inline_body);
  codec::put_varint(out, e.queue_id);
  if (!e.mime.empty()) {
    codec::put_string(out, e.mime);
  }
  return out;
}

Result<MessageEntry> decode_message_entry(std::string_view bytes, uint32_t uid) {
  codec::Reader r(bytes, "mailbox entry");
  MessageEntry e;
  e.uid = uid;
  RM_RETURN_IF_ERROR(read_version(r));
  RM_RETURN_IF_ERROR(r.varint("modseq", e.modseq));
  RM_RETURN_IF_ERROR(r.byte("flags", 0x1f, e.flags));
  RM_RETURN_IF_ERROR(read_keywords(r, e.keywords));
  uint64_t date = 0;
  RM_RETURN_IF_ERROR(r.varint("internal_date", date));
  e.internal_date_ms = codec::unzigzag(date);
  RM_RETURN_IF_ERROR(r.varint("size", e.size));
  RM_RETURN_IF_ERROR(read_extents(r, e.extents));
  RM_RETURN_IF_ERROR(r.string("inline_body", kInlineBodyBytesMax, e.inline_body));
  const uint64_t held = e.extents.empty() ? e.inline_body.size() : extent_bytes(e.extents);
  if (held != e.size || (!e.extents.empty() && !e.inline_body.empty())) {
    return r.corrupt("size", "does not match the body it refers to");
  }
  RM_RETURN_IF_ERROR(r.varint("queue_id", e.queue_id));
  if (r.remaining() > 0) {
    RM_RETURN_IF_ERROR(r.string("mime", kMimeStructureBytesMax, e.mime));
  }
  RM_RETURN_IF_ERROR(r.end());
  return e;
}

std::string encode_ref_delta(int64_t delta) {
  std::string out(8, '\0');
  const auto v = static_cast<uint64_t>(delta);
  std::memcpy(out.data(), &v, 8);  // little-endian hosts
  return out;
}

int64_t decode_ref_count(std::string_view bytes) {
  if (bytes.size() != 8) {
    return 0;
  }
  uint64_t v = 0;
  std::memcpy(&v, bytes.data(), 8);
  return static_cast<int64_t>(v);
}

}  // namespace rm
