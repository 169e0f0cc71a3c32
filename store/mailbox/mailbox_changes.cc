// MailboxStore's changes for IMAP and POP3: flags, APPEND, COPY/MOVE, and the mailboxes
// themselves (create, delete, rename, subscriptions).
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>
#include <set>

#include "store/codec/binary_codec.h"
#include "store/mailbox/mailbox_store.h"

namespace rm {
namespace {

// Appends below this many bytes stay in the entry; larger bodies go to segment files.
constexpr size_t kAppendInlineBytesMax = 16384;

// entries(): a wanted UID at most this far above the iterator's is reached by stepping
// (each step decodes nothing); farther ones are sought.
constexpr uint32_t kEntryStepsBeforeSeek = 8;

Result<MailboxInfo> existing(Database& db, std::string_view account, std::string_view name) {
  Result<std::optional<MailboxInfo>> found = MailboxStore::mailbox(db, account, name);
  if (!found.ok()) {
    return found.status();
  }
  if (!found->has_value()) {
    return Status::NotFound("no mailbox " + std::string(name));
  }
  return **found;
}

void put_info(Database& db, rocksdb::WriteBatch& batch, std::string_view account,
              std::string_view name, const MailboxInfo& info) {
  batch.Put(db.handle(Family::kMailbox), mailbox_keys::mailbox_key(account, name),
            encode_mailbox_info(info));
}

void add_segment_refs(Database& db, rocksdb::WriteBatch& batch,
                      const std::vector<BodyExtent>& extents, int64_t delta) {
  std::set<uint64_t> segments;
  for (const BodyExtent& e : extents) {
    if (e.segment != kInlineBodySegment) {
      segments.insert(e.segment);
    }
  }
  for (uint64_t segment : segments) {
    batch.Merge(db.handle(Family::kMailbox), mailbox_keys::segment_refs_key(segment),
                encode_ref_delta(delta));
  }
}

// Takes `count` new mailbox ids for the account (the batch records the next free one);
// returns the first.
Result<uint32_t> take_mailbox_ids(Database& db, rocksdb::WriteBatch& batch,
                                  std::string_view account, uint32_t count) {
  Result<uint32_t> next = MailboxStore::next_mailbox_id(db, account);
  if (!next.ok()) {
    return next.status();
  }
  std::string value;
  codec::put_varint(value, *next + count);
  batch.Put(db.handle(Family::kMailbox), mailbox_keys::account_key(account), value);
  return *next;
}

uint8_t apply_mode(FlagMode mode, uint8_t current, uint8_t flags) {
  switch (mode) {
    case FlagMode::kReplace:
      return flags;
    case FlagMode::kAdd:
      return current | flags;
    case FlagMode::kRemove:
      return current & static_cast<uint8_t>(~flags);
  }
  return current;
}

std::vector<std::string> apply_mode(FlagMode mode, const std::vector<std::string>& current,
                                    const std::vector<std::string>& keywords) {
  std::vector<std::string> out = mode == FlagMode::kReplace ? std::vector<std::string>{} : current;
  for (const std::string& k : keywords) {
    auto it = std::find(out.begin(), out.end(), k);
    if (mode == FlagMode::kRemove) {
      if (it != out.end()) out.erase(it);
    } else if (it == out.end() && out.size() < kKeywordsMax) {
      out.push_back(k);
    }
  }
  return out;
}

MessageEntry without_body(const MessageEntry& e) {
  MessageEntry out;
  out.uid = e.uid;
  out.modseq = e.modseq;
  out.flags = e.flags;
  out.keywords = e.keywords;
  out.internal_date_ms = e.internal_date_ms;
  out.size = e.size;
  return out;
}

bool is_below(std::string_view name, std::string_view parent) {
  return name.size() > parent.size() + 1 && name.substr(0, parent.size()) == parent &&
         name[parent.size()] == '/';
}

}  // namespace

Result<std::vector<BodyExtent>> AppendWriter::write(std::string_view body) {
  std::optional<uint64_t> sealed;
  const BodyExtent extent = allocator_.allocate(body, sealed);
  if (sealed) to_seal_.push_back(*sealed);
  RM_RETURN_IF_ERROR(writer_.write({BodyPiece{extent, body}}));
  return std::vector<BodyExtent>{extent};
}

Status AppendWriter::sync() {
  RM_RETURN_IF_ERROR(writer_.sync());
  for (uint64_t segment : to_seal_) {
    RM_RETURN_IF_ERROR(writer_.seal(segment));
  }
  to_seal_.clear();
  return Status::Ok();
}

Result<FlagChangeResult> MailboxStore::change_flags(Database& db, std::string_view account,
                                                    std::string_view name,
                                                    const std::vector<uint32_t>& uids,
                                                    const FlagChange& change) {
  Result<MailboxInfo> info = existing(db, account, name);
  if (!info.ok()) {
    return info.status();
  }
  FlagChangeResult result;
  rocksdb::WriteBatch batch;
  for (uint32_t uid : uids) {
    Result<std::optional<MessageEntry>> found = entry(db, account, *info, uid);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      continue;
    }
    MessageEntry& e = **found;
    if (change.unchanged_since != 0 && e.modseq > change.unchanged_since) {
      result.modified.push_back(uid);
      continue;
    }
    const uint8_t flags = apply_mode(change.mode, e.flags, change.flags);
    std::vector<std::string> keywords = apply_mode(change.mode, e.keywords, change.keywords);
    if (flags == e.flags && keywords == e.keywords) {
      continue;  // nothing changes: no new MODSEQ (RFC 7162 §3.1)
    }
    e.flags = flags;
    e.keywords = std::move(keywords);
    e.modseq = ++info->highest_modseq;
    batch.Put(db.handle(Family::kMailbox), mailbox_keys::entry_key(account, info->id, uid),
              encode_message_entry(e));
    result.changed.push_back(without_body(e));
  }
  result.highest_modseq = info->highest_modseq;
  if (!result.changed.empty()) {
    put_info(db, batch, account, name, *info);
    RM_RETURN_IF_ERROR(db.write(batch, true));
  }
  return result;
}

Result<std::pair<MessageEntry, uint32_t>> MailboxStore::append(
    Database& db, BodyStore& bodies, AppendWriter& writer, std::string_view account,
    std::string_view name, std::string_view body, uint8_t flags,
    std::vector<std::string> keywords, int64_t internal_date_ms) {
  std::vector<AppendRequest> one(1);
  one[0].account.assign(account);
  one[0].mailbox.assign(name);
  one[0].body.assign(body);
  one[0].flags = flags;
  one[0].keywords = std::move(keywords);
  one[0].internal_date_ms = internal_date_ms;
  RM_RETURN_IF_ERROR(append_many(db, bodies, writer, one));
  RM_RETURN_IF_ERROR(one[0].status);
  return std::make_pair(std::move(one[0].entry), one[0].uidvalidity);
}

Status MailboxStore::append_many(Database& db, BodyStore& bodies, AppendWriter& writer,
                                 std::vector<AppendRequest>& requests) {
  std::map<std::pair<std::string, std::string>, MailboxInfo> infos;  // read once, updated here
  rocksdb::WriteBatch batch;
  std::vector<AppendRequest*> written;
  bool wrote_bodies = false;
  for (AppendRequest& r : requests) {
    const auto key = std::make_pair(r.account, r.mailbox);
    auto it = infos.find(key);
    if (it == infos.end()) {
      Result<MailboxInfo> info = existing(db, r.account, r.mailbox);
      if (!info.ok()) {
        r.status = info.status();
        continue;
      }
      it = infos.emplace(key, *info).first;
    }
    MailboxInfo& info = it->second;
    MessageEntry e;
    e.modseq = info.highest_modseq + 1;
    e.flags = r.flags;
    e.keywords = std::move(r.keywords);
    e.internal_date_ms = r.internal_date_ms;
    e.size = r.body.size();
    if (r.body.size() <= kAppendInlineBytesMax) {
      e.inline_body = std::move(r.body);
    } else {
      Result<std::vector<BodyExtent>> extents = writer.write(r.body);
      if (!extents.ok()) {
        r.status = extents.status();
        continue;
      }
      e.extents = std::move(*extents);
      wrote_bodies = true;
    }
    e.uid = info.uidnext++;
    info.highest_modseq = e.modseq;
    ++info.messages;
    info.bytes += e.size;
    batch.Put(db.handle(Family::kMailbox), mailbox_keys::entry_key(r.account, info.id, e.uid),
              encode_message_entry(e));
    add_segment_refs(db, batch, e.extents, +1);
    bodies.add_refs(e.extents);
    r.uidvalidity = info.uidvalidity;
    r.entry = std::move(e);
    written.push_back(&r);
  }
  if (written.empty()) {
    return Status::Ok();
  }
  for (const auto& [key, info] : infos) {
    put_info(db, batch, key.first, key.second, info);
  }
  Status status = wrote_bodies ? writer.sync() : Status::Ok();
  if (status.ok()) {
    status = db.write(batch, true);
  }
  for (AppendRequest* r : written) {
    r->status = status;
    if (!status.ok()) {
      bodies.release(r->entry.extents, /*free_bytes=*/true);
    }
    r->entry = without_body(r->entry);
  }
  return status;
}

Result<CopyResult> MailboxStore::copy(Database& db, BodyStore& bodies, std::string_view account,
                                      std::string_view from, std::string_view to,
                                      const std::vector<uint32_t>& uids, bool move) {
  Result<MailboxInfo> source = existing(db, account, from);
  if (!source.ok()) {
    return source.status();
  }
  Result<MailboxInfo> dest = existing(db, account, to);
  if (!dest.ok()) {
    return dest.status();
  }
  const bool same = source->id == dest->id;
  CopyResult result;
  result.uidvalidity = dest->uidvalidity;
  rocksdb::WriteBatch batch;
  std::vector<std::vector<BodyExtent>> referenced;
  std::vector<std::vector<BodyExtent>> released;
  for (uint32_t uid : uids) {
    Result<std::optional<MessageEntry>> found = entry(db, account, *source, uid);
    if (!found.ok()) {
      return found.status();
    }
    if (!found->has_value()) {
      continue;
    }
    MessageEntry e = std::move(**found);
    MessageEntry c = e;
    c.uid = dest->uidnext++;
    c.modseq = ++dest->highest_modseq;
    ++dest->messages;
    dest->bytes += c.size;
    batch.Put(db.handle(Family::kMailbox), mailbox_keys::entry_key(account, dest->id, c.uid),
              encode_message_entry(c));
    add_segment_refs(db, batch, c.extents, +1);
    referenced.push_back(c.extents);
    if (move) {
      batch.Delete(db.handle(Family::kMailbox), mailbox_keys::entry_key(account, source->id, uid));
      add_segment_refs(db, batch, e.extents, -1);
      released.push_back(e.extents);
      MailboxInfo& src = same ? *dest : *source;
      src.messages -= src.messages > 0 ? 1 : 0;
      src.bytes -= std::min(src.bytes, e.size);
    }
    result.source_uids.push_back(uid);
    result.copies.push_back(without_body(c));
  }
  if (result.copies.empty()) {
    return result;
  }
  if (move && !same) {
    ++source->highest_modseq;
    put_info(db, batch, account, from, *source);
  }
  put_info(db, batch, account, to, *dest);
  for (const auto& extents : referenced) bodies.add_refs(extents);
  if (Status s = db.write(batch, true); !s.ok()) {
    for (const auto& extents : referenced) bodies.release(extents, /*free_bytes=*/false);
    return s;
  }
  for (const auto& extents : released) bodies.release(extents, /*free_bytes=*/false);
  result.source_highest_modseq = same ? dest->highest_modseq : source->highest_modseq;
  return result;
}

Result<std::optional<MessageEntry>> MailboxStore::entry(Database& db, std::string_view account,
                                                        const MailboxInfo& info, uint32_t uid) {
  Result<std::optional<std::string>> bytes =
      db.get(Family::kMailbox, mailbox_keys::entry_key(account, info.id, uid));
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (!bytes->has_value()) {
    return std::optional<MessageEntry>();
  }
  Result<MessageEntry> e = decode_message_entry(**bytes, uid);
  if (!e.ok()) {
    return e.status();
  }
  return std::optional<MessageEntry>(std::move(e).value());
}

Result<std::vector<MessageEntry>> MailboxStore::entries(Database& db, std::string_view account,
                                                        const MailboxInfo& info,
                                                        const std::vector<uint32_t>& uids) {
  const std::string prefix = mailbox_keys::entry_prefix(account, info.id);
  const std::string upper = prefix_successor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions options;
  if (!upper.empty()) {
    options.iterate_upper_bound = &upper_slice;
  }
  // A retrieval reads each message once: its blocks (mostly one body each) would only push
  // the index and the mailbox records out of the block cache.
  options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(
      db.raw()->NewIterator(options, db.handle(Family::kMailbox)));
  auto uid_here = [&] {
    const rocksdb::Slice key = it->key();
    return mailbox_keys::uid_of_entry_key(std::string_view(key.data(), key.size()));
  };
  std::vector<MessageEntry> out;
  out.reserve(uids.size());
  for (const uint32_t uid : uids) {
    if (it->Valid() && uid_here() < uid && uid - uid_here() <= kEntryStepsBeforeSeek) {
      while (it->Valid() && uid_here() < uid) {
        it->Next();
      }
    } else if (!it->Valid() || uid_here() != uid) {
      it->Seek(mailbox_keys::entry_key(account, info.id, uid));
    }
    if (!it->Valid() || uid_here() != uid) {
      continue;  // gone
    }
    const rocksdb::Slice value = it->value();
    Result<MessageEntry> e =
        decode_message_entry(std::string_view(value.data(), value.size()), uid);
    if (!e.ok()) {
      return e.status();
    }
    out.push_back(std::move(e).value());
  }
  RM_RETURN_IF_ERROR(from_rocksdb(it->status()));
  return out;
}

Status MailboxStore::set_mime(Database& db, std::string_view account, const MailboxInfo& info,
                              const MessageEntry& e) {
  rocksdb::WriteBatch batch;
  batch.Put(db.handle(Family::kMailbox), mailbox_keys::entry_key(account, info.id, e.uid),
            encode_message_entry(e));
  return db.write(batch, false);
}

Status MailboxStore::create_mailbox(Database& db, std::string_view account, std::string_view name,
                                    uint8_t special_use, int64_t now_ms) {
  if (name.empty() || name.size() > kMailboxNameBytesMax || name.find('\0') != name.npos) {
    return Status::InvalidArgument("bad mailbox name");
  }
  Result<std::optional<MailboxInfo>> found = mailbox(db, account, name);
  if (!found.ok()) {
    return found.status();
  }
  if (found->has_value()) {
    return Status::AlreadyExists("mailbox exists");
  }
  // Superior levels that do not exist yet are created too (RFC 9051 §6.3.4), so that LIST
  // finds every level on the way down.
  std::vector<std::string_view> missing;
  for (size_t slash = name.find('/'); slash != name.npos; slash = name.find('/', slash + 1)) {
    if (slash == 0) continue;
    Result<std::optional<MailboxInfo>> parent = mailbox(db, account, name.substr(0, slash));
    if (!parent.ok()) {
      return parent.status();
    }
    if (!parent->has_value()) missing.push_back(name.substr(0, slash));
  }
  missing.push_back(name);
  rocksdb::WriteBatch batch;
  Result<uint32_t> first = take_mailbox_ids(db, batch, account, static_cast<uint32_t>(missing.size()));
  if (!first.ok()) {
    return first.status();
  }
  uint32_t id = *first;
  for (std::string_view level : missing) {
    MailboxInfo info;
    info.id = id++;
    info.uidvalidity = static_cast<uint32_t>(now_ms / 1000);
    info.special_use = level == name ? special_use : 0;
    put_info(db, batch, account, level, info);
  }
  return db.write(batch, true);
}

Status MailboxStore::delete_mailbox(Database& db, BodyStore& bodies, std::string_view account,
                                    std::string_view name) {
  Result<MailboxInfo> info = existing(db, account, name);
  if (!info.ok()) {
    return info.status();
  }
  rocksdb::WriteBatch batch;
  std::vector<std::vector<BodyExtent>> released;
  Status failure;
  Status scanned = db.scan_prefix(
      Family::kMailbox, mailbox_keys::entry_prefix(account, info->id),
      [&](std::string_view key, std::string_view value) {
        Result<MessageEntry> e = decode_message_entry(value, mailbox_keys::uid_of_entry_key(key));
        if (e.ok()) {
          add_segment_refs(db, batch, e->extents, -1);
          released.push_back(std::move(e->extents));
        }
        batch.Delete(db.handle(Family::kMailbox), std::string(key));
        return true;
      });
  RM_RETURN_IF_ERROR(scanned);
  batch.Delete(db.handle(Family::kMailbox), mailbox_keys::mailbox_key(account, name));
  RM_RETURN_IF_ERROR(db.write(batch, true));
  for (const auto& extents : released) bodies.release(extents, /*free_bytes=*/false);
  return Status::Ok();
}

Status MailboxStore::rename_mailbox(Database& db, std::string_view account, std::string_view from,
                                    std::string_view to, int64_t now_ms) {
  if (to.empty() || to.size() > kMailboxNameBytesMax || to.find('\0') != to.npos) {
    return Status::InvalidArgument("bad mailbox name");
  }
  Result<std::vector<MailboxListing>> all = list_mailboxes(db, account);
  if (!all.ok()) {
    return all.status();
  }
  const MailboxListing* source = nullptr;
  for (const MailboxListing& m : *all) {
    if (m.name == to || is_below(m.name, to)) {
      return Status::AlreadyExists("mailbox exists");
    }
    if (m.name == from) source = &m;
  }
  if (source == nullptr) {
    return Status::NotFound("no mailbox " + std::string(from));
  }
  rocksdb::WriteBatch batch;
  put_info(db, batch, account, to, source->info);
  batch.Delete(db.handle(Family::kMailbox), mailbox_keys::mailbox_key(account, from));
  if (from == kInbox) {
    // The messages go with the new name; INBOX itself stays, empty and new.
    Result<uint32_t> id = take_mailbox_ids(db, batch, account, 1);
    if (!id.ok()) {
      return id.status();
    }
    MailboxInfo inbox;
    inbox.id = *id;
    inbox.uidvalidity = static_cast<uint32_t>(now_ms / 1000);
    put_info(db, batch, account, kInbox, inbox);
  } else {
    for (const MailboxListing& m : *all) {
      if (is_below(m.name, from)) {
        const std::string renamed = std::string(to) + m.name.substr(from.size());
        put_info(db, batch, account, renamed, m.info);
        batch.Delete(db.handle(Family::kMailbox), mailbox_keys::mailbox_key(account, m.name));
      }
    }
  }
  return db.write(batch, true);
}

Result<std::vector<MailboxListing>> MailboxStore::list_mailboxes(Database& db,
                                                                 std::string_view account) {
  const std::string prefix = mailbox_keys::mailbox_prefix(account);
  std::vector<MailboxListing> out;
  Status failure;
  const Status status =
      db.scan_prefix(Family::kMailbox, prefix, [&](std::string_view key, std::string_view value) {
        Result<MailboxInfo> info = decode_mailbox_info(value);
        if (!info.ok()) {
          failure = info.status();
          return false;
        }
        out.push_back({std::string(key.substr(prefix.size())), *info});
        return true;
      });
  RM_RETURN_IF_ERROR(status);
  RM_RETURN_IF_ERROR(failure);
  return out;
}

Status MailboxStore::set_subscribed(Database& db, std::string_view account, std::string_view name,
                                    bool subscribed) {
  if (name.empty() || name.size() > kMailboxNameBytesMax) {
    return Status::InvalidArgument("bad mailbox name");
  }
  rocksdb::WriteBatch batch;
  const std::string key = mailbox_keys::subscription_key(account, name);
  if (subscribed) {
    batch.Put(db.handle(Family::kMailbox), key, "");
  } else {
    batch.Delete(db.handle(Family::kMailbox), key);
  }
  return db.write(batch, true);
}

Result<std::vector<std::string>> MailboxStore::subscriptions(Database& db,
                                                             std::string_view account) {
  const std::string prefix = mailbox_keys::subscription_prefix(account);
  std::vector<std::string> out;
  RM_RETURN_IF_ERROR(
      db.scan_prefix(Family::kMailbox, prefix, [&](std::string_view key, std::string_view) {
        out.emplace_back(key.substr(prefix.size()));
        return true;
      }));
  return out;
}

}  // namespace rm
