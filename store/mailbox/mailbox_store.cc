#include "store/mailbox/mailbox_store.h"

#include <rocksdb/write_batch.h>

#include <map>
#include <set>
#include <utility>

#include "store/body/extent_codec.h"
#include "store/codec/binary_codec.h"

namespace rm {
namespace {

std::set<uint64_t> segments_of(const std::vector<BodyExtent>& extents) {
  std::set<uint64_t> out;
  for (const BodyExtent& e : extents) {
    if (e.segment != kInlineBodySegment) {
      out.insert(e.segment);
    }
  }
  return out;
}

void merge_refs(Database& db, rocksdb::WriteBatch& batch, const std::vector<BodyExtent>& extents,
                int64_t delta) {
  for (uint64_t segment : segments_of(extents)) {
    batch.Merge(db.handle(Family::kMailbox), mailbox_keys::segment_refs_key(segment),
                encode_ref_delta(delta));
  }
}

// The mailboxes a delivery batch writes, read once and updated in memory.
class MailboxCache {
 public:
  MailboxCache(Database& db, rocksdb::WriteBatch& batch, int64_t now_ms)
      : db_(db), batch_(batch), now_ms_(now_ms) {}

  Result<MailboxInfo*> open(const std::string& account, const std::string& name) {
    const std::string key = mailbox_keys::mailbox_key(account, name);
    if (auto it = infos_.find(key); it != infos_.end()) {
      return &it->second;
    }
    Result<std::optional<std::string>> bytes = db_.get(Family::kMailbox, key);
    if (!bytes.ok()) {
      return bytes.status();
    }
    MailboxInfo info;
    if (bytes->has_value()) {
      Result<MailboxInfo> decoded = decode_mailbox_info(**bytes);
      if (!decoded.ok()) {
        return decoded.status();
      }
      info = *decoded;
    } else {
      Result<uint32_t> id = next_mailbox_id(account);
      if (!id.ok()) {
        return id.status();
      }
      info.id = *id;
      info.uidvalidity = static_cast<uint32_t>(now_ms_ / 1000);
    }
    return &infos_.emplace(key, info).first->second;
  }

  void write_back() {
    for (const auto& [key, info] : infos_) {
      batch_.Put(db_.handle(Family::kMailbox), key, encode_mailbox_info(info));
    }
    for (const auto& [account, next] : next_ids_) {
      std::string value;
      codec::put_varint(value, next);
      batch_.Put(db_.handle(Family::kMailbox), mailbox_keys::account_key(account), value);
    }
  }

 private:
  Result<uint32_t> next_mailbox_id(const std::string& account) {
    auto it = next_ids_.find(account);
    if (it == next_ids_.end()) {
      Result<uint32_t> next = MailboxStore::next_mailbox_id(db_, account);
      if (!next.ok()) {
        return next.status();
      }
      it = next_ids_.emplace(account, *next).first;
    }
    return it->second++;
  }

  Database& db_;
  rocksdb::WriteBatch& batch_;
  const int64_t now_ms_;
  std::map<std::string, MailboxInfo> infos_;
  std::map<std::string, uint32_t> next_ids_;
};

Status check_delivery(const MailboxDelivery& d) {
  if (d.account.empty() || d.account.find('\0') != std::string::npos || d.mailbox.empty() ||
      d.mailbox.size() > kMailboxNameBytesMax) {
    return Status::InvalidArgument("mailbox delivery: bad account or mailbox name");
  }
  const uint64_t held = d.extents.empty() ? d.inline_body.size() : extent_bytes(d.extents);
  if (held != d.size || (!d.extents.empty() && !d.inline_body.empty())) {
    return Status::InvalidArgument("mailbox delivery: the size does not match the body");
  }
  return Status::Ok();
}

}  // namespace

Status MailboxStore::deliver(Database& db, BodyStore& bodies,
                             std::vector<MailboxDelivery>& deliveries, int64_t now_ms) {
  rocksdb::WriteBatch batch;
  MailboxCache cache(db, batch, now_ms);
  std::vector<MailboxDelivery*> written;
  for (MailboxDelivery& d : deliveries) {
    d.status = check_delivery(d);
    if (!d.status.ok()) {
      continue;
    }
    Result<MailboxInfo*> info = cache.open(d.account, d.mailbox);
    if (!info.ok()) {
      d.status = info.status();
      continue;
    }
    MailboxInfo& mb = **info;
    MessageEntry entry{mb.uidnext, ++mb.highest_modseq, d.flags,   {}, d.internal_date_ms, d.size,
                       d.extents,  d.inline_body,       d.queue_id};
    d.uid = mb.uidnext++;
    d.uidvalidity = mb.uidvalidity;
    d.modseq = entry.modseq;
    ++mb.messages;
    mb.bytes += d.size;
    batch.Put(db.handle(Family::kMailbox), mailbox_keys::entry_key(d.account, mb.id, d.uid),
              encode_message_entry(entry));
    merge_refs(db, batch, d.extents, +1);
    bodies.add_refs(d.extents);
    written.push_back(&d);
  }
  if (written.empty()) {
    return Status::Ok();
  }
  cache.write_back();
  const Status status = db.write(batch, true);
  for (MailboxDelivery* d : written) {
    d->status = status;
    if (!status.ok()) {
      bodies.release(d->extents, /*free_bytes=*/false);  // the queue still has them
      d->uid = 0;
    }
  }
  return status;
}

Result<uint32_t> MailboxStore::next_mailbox_id(Database& db, std::string_view account) {
  Result<std::optional<std::string>> bytes =
      db.get(Family::kMailbox, mailbox_keys::account_key(account));
  if (!bytes.ok()) {
    return bytes.status();
  }
  uint32_t next = 1;
  if (bytes->has_value()) {
    codec::Reader r(**bytes, "account record");
    RM_RETURN_IF_ERROR(r.u32("next mailbox id", next));
  }
  return next;
}

Result<std::optional<MailboxInfo>> MailboxStore::mailbox(Database& db, std::string_view account,
                                                         std::string_view name) {
  Result<std::optional<std::string>> bytes =
      db.get(Family::kMailbox, mailbox_keys::mailbox_key(account, name));
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (!bytes->has_value()) {
    return std::optional<MailboxInfo>();
  }
  Result<MailboxInfo> info = decode_mailbox_info(**bytes);
  if (!info.ok()) {
    return info.status();
  }
  return std::optional<MailboxInfo>(*info);
}

Result<std::vector<std::string>> MailboxStore::mailbox_names(Database& db,
                                                             std::string_view account) {
  const std::string prefix = mailbox_keys::mailbox_prefix(account);
  std::vector<std::string> names;
  const Status status =
      db.scan_prefix(Family::kMailbox, prefix, [&](std::string_view key, std::string_view) {
        names.emplace_back(key.substr(prefix.size()));
        return true;
      });
  RM_RETURN_IF_ERROR(status);
  return names;
}

Result<std::vector<MessageEntry>> MailboxStore::messages(Database& db, std::string_view account,
                                                         std::string_view name) {
  Result<std::optional<MailboxInfo>> info = mailbox(db, account, name);
  if (!info.ok()) {
    return info.status();
  }
  std::vector<MessageEntry> out;
  if (!info->has_value()) {
    return out;
  }
  Status failure;
  const Status status =
      db.scan_prefix(Family::kMailbox, mailbox_keys::entry_prefix(account, (*info)->id),
                     [&](std::string_view key, std::string_view value) {
                       Result<MessageEntry> entry =
                           decode_message_entry(value, mailbox_keys::uid_of_entry_key(key));
                       if (!entry.ok()) {
                         failure = entry.status();
                         return false;
                       }
                       out.push_back(std::move(entry).value());
                       return true;
                     });
  RM_RETURN_IF_ERROR(status);
  RM_RETURN_IF_ERROR(failure);
  return out;
}

Result<std::string> MailboxStore::read_body(BodyStore& bodies, const MessageEntry& entry) {
  if (entry.extents.empty()) {
    return entry.inline_body;
  }
  return bodies.read(entry.extents, entry.size);
}

Status MailboxStore::remove(Database& db, BodyStore& bodies, std::string_view account,
                            std::string_view name, const std::vector<uint32_t>& uids) {
  Result<std::optional<MailboxInfo>> found = mailbox(db, account, name);
  if (!found.ok()) {
    return found.status();
  }
  if (!found->has_value()) {
    return Status::NotFound("no mailbox " + std::string(name));
  }
  MailboxInfo info = **found;
  rocksdb::WriteBatch batch;
  std::vector<std::vector<BodyExtent>> released;
  for (uint32_t uid : uids) {
    const std::string key = mailbox_keys::entry_key(account, info.id, uid);
    Result<std::optional<std::string>> bytes = db.get(Family::kMailbox, key);
    if (!bytes.ok()) {
      return bytes.status();
    }
    if (!bytes->has_value()) {
      continue;
    }
    Result<MessageEntry> entry = decode_message_entry(**bytes, uid);
    if (entry.ok()) {
      merge_refs(db, batch, entry->extents, -1);
      info.bytes -= std::min(info.bytes, entry->size);
      released.push_back(std::move(entry->extents));
    }
    info.messages -= info.messages > 0 ? 1 : 0;
    batch.Delete(db.handle(Family::kMailbox), key);
  }
  ++info.highest_modseq;
  batch.Put(db.handle(Family::kMailbox), mailbox_keys::mailbox_key(account, name),
            encode_mailbox_info(info));
  RM_RETURN_IF_ERROR(db.write(batch, true));
  for (const std::vector<BodyExtent>& extents : released) {
    bodies.release(extents, /*free_bytes=*/false);  // other mailboxes may share them
  }
  return Status::Ok();
}

Result<std::unordered_map<uint64_t, uint64_t>> MailboxStore::segment_refs(Database& db) {
  std::unordered_map<uint64_t, uint64_t> refs;
  const Status status =
      db.scan_prefix(Family::kMailbox, "R", [&](std::string_view key, std::string_view value) {
        const int64_t count = decode_ref_count(value);
        if (key.size() == 9 && count > 0) {
          refs[codec::get_be64(key.substr(1))] += static_cast<uint64_t>(count);
        }
        return true;
      });
  RM_RETURN_IF_ERROR(status);
  return refs;
}

}  // namespace rm
