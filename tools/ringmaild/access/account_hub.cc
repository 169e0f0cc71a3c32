#include "tools/ringmaild/access/account_hub.h"

#include <utility>

#include "core/base/clock.h"
#include "core/base/log.h"

namespace rm {
namespace {

// Views kept loaded with no session watching them (a SELECT after a new login is then
// answered from memory); beyond it idle views are dropped.
constexpr size_t kIdleViewsMax = 1000;

struct SpecialUse {
  const char* name;
  uint8_t use;
};
constexpr SpecialUse kSpecialUses[] = {
    {"Sent", kUseSent}, {"Drafts", kUseDrafts}, {"Trash", kUseTrash},
    {"Junk", kUseJunk}, {"Archive", kUseArchive},
};

Status provision_account(Database& db, const std::string& account) {
  Result<std::vector<MailboxListing>> all = MailboxStore::list_mailboxes(db, account);
  if (!all.ok()) {
    return all.status();
  }
  auto has = [&](std::string_view name, uint8_t use) {
    for (const MailboxListing& m : *all) {
      if (m.name == name || (use != 0 && (m.info.special_use & use))) return true;
    }
    return false;
  };
  const int64_t now = unix_ms();
  if (!has(kInbox, 0)) {
    Status s = MailboxStore::create_mailbox(db, account, kInbox, 0, now);
    if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
  }
  for (const SpecialUse& su : kSpecialUses) {
    if (!has(su.name, su.use)) {
      Status s = MailboxStore::create_mailbox(db, account, su.name, su.use, now);
      if (!s.ok() && s.code() != StatusCode::kAlreadyExists) return s;
    }
  }
  return Status::Ok();
}

}  // namespace

AccountHub::AccountHub(Shard& shard, Database& db, BodyStore& bodies, const Options& options)
    : shard_(shard), db_(db), bodies_(bodies),
      append_writer_(std::make_unique<AppendWriter>(
          bodies, uint64_t{options.store.body_segment_mib} << 20)) {}

AccountHub::~AccountHub() { *alive_ = false; }

template <typename T>
void AccountHub::on_lane(std::function<Result<T>()> job, std::function<void(Result<T>)> then) {
  Shard* shard = &shard_;
  Status queued = shard_.run_blocking([shard, job = std::move(job), then, alive = alive_]() mutable {
    auto result = std::make_shared<Result<T>>(job());
    shard->complete_from_lane([then = std::move(then), result, alive]() mutable {
      if (*alive) then(std::move(*result));
    });
  });
  if (!queued.ok()) {
    shard_.defer([then = std::move(then), queued, alive = alive_]() mutable {
      if (*alive) then(Result<T>(queued));
    });
  }
}

void AccountHub::on_lane_status(std::function<Status()> job, StatusDone then) {
  on_lane<bool>(
      [job = std::move(job)]() -> Result<bool> {
        Status s = job();
        if (!s.ok()) return s;
        return true;
      },
      [then = std::move(then)](Result<bool> r) { then(r.status()); });
}

void AccountHub::provision(const std::string& account, StatusDone done) {
  if (provisioned_.count(account)) {
    shard_.defer([done = std::move(done)] { done(Status::Ok()); });
    return;
  }
  on_lane_status([this, account] { return provision_account(db_, account); },
                 [this, account, done = std::move(done)](Status s) {
                   if (s.ok()) provisioned_.insert(account);
                   done(s);
                 });
}

std::shared_ptr<MailboxView> AccountHub::loaded(const std::string& account,
                                                const std::string& name) const {
  auto it = views_.find(Key(account, name));
  return it == views_.end() ? nullptr : it->second;
}

void AccountHub::open(const std::string& account, const std::string& name,
                      Done<std::shared_ptr<MailboxView>> done) {
  const Key key(account, name);
  if (auto view = loaded(account, name)) {
    shard_.defer([done = std::move(done), view] { done(view); });
    return;
  }
  auto& waiting = loading_[key];
  waiting.push_back(std::move(done));
  if (waiting.size() > 1) {
    return;  // a load is on its way
  }
  using Loaded = std::pair<MailboxInfo, std::vector<MessageEntry>>;
  on_lane<Loaded>(
      [this, account, name]() -> Result<Loaded> {
        Result<std::optional<MailboxInfo>> info = MailboxStore::mailbox(db_, account, name);
        if (!info.ok()) return info.status();
        if (!info->has_value()) return Status::NotFound("no such mailbox");
        Result<std::vector<MessageEntry>> entries = MailboxStore::messages(db_, account, name);
        if (!entries.ok()) return entries.status();
        for (MessageEntry& e : *entries) {  // the view keeps none of these
          e.inline_body.clear();
          e.extents.clear();
          e.mime.clear();
        }
        return Loaded(**info, std::move(*entries));
      },
      [this, key](Result<Loaded> r) {
        std::vector<Done<std::shared_ptr<MailboxView>>> waiters = std::move(loading_[key]);
        loading_.erase(key);
        if (!r.ok()) {
          for (auto& w : waiters) w(r.status());
          return;
        }
        std::shared_ptr<MailboxView> view = loaded(key.first, key.second);
        if (!view) {
          view = std::make_shared<MailboxView>(key.first, key.second, r->first, r->second);
          keep(key, view);
        }
        for (auto& w : waiters) w(view);
      });
}

void AccountHub::keep(const Key& key, std::shared_ptr<MailboxView> view) {
  views_[key] = std::move(view);
  if (views_.size() <= kIdleViewsMax) {
    return;
  }
  for (auto it = views_.begin(); it != views_.end();) {
    // Views a session holds (use_count > 1) or watches stay.
    if (it->first != key && it->second.use_count() == 1 && it->second->watchers() == 0) {
      it = views_.erase(it);
    } else {
      ++it;
    }
  }
}

void AccountHub::forget(const Key& key) {
  auto it = views_.find(key);
  if (it == views_.end()) return;
  std::shared_ptr<MailboxView> view = std::move(it->second);
  views_.erase(it);
  view->mark_gone();
}

void AccountHub::forget_tree(const std::string& account, const std::string& name) {
  std::vector<Key> doomed;
  for (const auto& [key, view] : views_) {
    const std::string& n = key.second;
    if (key.first == account &&
        (n == name || (n.size() > name.size() && n.compare(0, name.size(), name) == 0 &&
                       n[name.size()] == '/'))) {
      doomed.push_back(key);
    }
  }
  for (const Key& key : doomed) forget(key);
}

void AccountHub::change_flags(const std::string& account, const std::string& name,
                              std::vector<uint32_t> uids, FlagChange change,
                              Done<FlagChangeResult> done) {
  on_lane<FlagChangeResult>(
      [this, account, name, uids = std::move(uids), change = std::move(change)] {
        return MailboxStore::change_flags(db_, account, name, uids, change);
      },
      [this, account, name, done = std::move(done)](Result<FlagChangeResult> r) {
        if (r.ok()) {
          if (auto view = loaded(account, name)) {
            view->apply_flags(r->changed, r->highest_modseq);
            if (!r->changed.empty()) view->notify();
          }
        }
        done(std::move(r));
      });
}

void AccountHub::expunge(const std::string& account, const std::string& name,
                         std::vector<uint32_t> uids, Done<uint64_t> done) {
  auto shared_uids = std::make_shared<std::vector<uint32_t>>(std::move(uids));
  on_lane<uint64_t>(
      [this, account, name, shared_uids]() -> Result<uint64_t> {
        RM_RETURN_IF_ERROR(MailboxStore::remove(db_, bodies_, account, name, *shared_uids));
        Result<std::optional<MailboxInfo>> info = MailboxStore::mailbox(db_, account, name);
        if (!info.ok()) return info.status();
        return info->has_value() ? (*info)->highest_modseq : 0;
      },
      [this, account, name, shared_uids, done = std::move(done)](Result<uint64_t> r) {
        if (r.ok()) {
          if (auto view = loaded(account, name)) {
            view->apply_removed(*shared_uids, *r);
            view->notify();
          }
        }
        done(std::move(r));
      });
}

void AccountHub::append(const std::string& account, const std::string& name, std::string body,
                        uint8_t flags, std::vector<std::string> keywords,
                        int64_t internal_date_ms, Done<std::pair<MessageEntry, uint32_t>> done) {
  PendingAppend p;
  p.request.account = account;
  p.request.mailbox = name;
  p.request.body = std::move(body);
  p.request.flags = flags;
  p.request.keywords = std::move(keywords);
  p.request.internal_date_ms = internal_date_ms;
  p.done = std::move(done);
  appends_.push_back(std::move(p));
  submit_appends();
}

void AccountHub::submit_appends() {
  if (append_in_flight_ || appends_.empty()) {
    return;
  }
  append_in_flight_ = true;
  auto group = std::make_shared<std::vector<PendingAppend>>(std::move(appends_));
  appends_.clear();
  on_lane<bool>(
      [this, group]() -> Result<bool> {
        std::vector<AppendRequest> requests;
        requests.reserve(group->size());
        for (PendingAppend& p : *group) requests.push_back(std::move(p.request));
        const Status status = MailboxStore::append_many(db_, bodies_, *append_writer_, requests);
        for (size_t i = 0; i < requests.size(); ++i) (*group)[i].request = std::move(requests[i]);
        if (!status.ok()) return status;
        return true;
      },
      [this, group](Result<bool>) {
        append_in_flight_ = false;
        std::set<MailboxView*> changed;
        for (PendingAppend& p : *group) {
          const AppendRequest& r = p.request;
          if (!r.status.ok()) continue;
          if (auto view = loaded(r.account, r.mailbox)) {
            view->apply_added({r.entry}, r.entry.uid + 1, r.entry.modseq);
            changed.insert(view.get());
          }
        }
        for (MailboxView* view : changed) view->notify();
        for (PendingAppend& p : *group) {
          if (p.request.status.ok()) {
            p.done(std::make_pair(std::move(p.request.entry), p.request.uidvalidity));
          } else {
            p.done(p.request.status);
          }
        }
        submit_appends();
      });
}

void AccountHub::copy(const std::string& account, const std::string& from, const std::string& to,
                      std::vector<uint32_t> uids, bool move, Done<CopyResult> done) {
  on_lane<CopyResult>(
      [this, account, from, to, uids = std::move(uids), move] {
        return MailboxStore::copy(db_, bodies_, account, from, to, uids, move);
      },
      [this, account, from, to, move, done = std::move(done)](Result<CopyResult> r) {
        if (r.ok() && !r->copies.empty()) {
          if (auto view = loaded(account, to)) {
            uint64_t top = 0;
            for (const MessageEntry& e : r->copies) top = std::max(top, e.modseq);
            view->apply_added(r->copies, r->copies.back().uid + 1, top);
            view->notify();
          }
          if (move) {
            if (auto view = loaded(account, from)) {
              view->apply_removed(r->source_uids, r->source_highest_modseq);
              view->notify();
            }
          }
        }
        done(std::move(r));
      });
}

void AccountHub::read(const std::string& account, const std::string& name,
                      std::vector<uint32_t> uids, bool with_bodies, MimeFunction mime_of,
                      Done<std::vector<StoredMessage>> done) {
  on_lane<std::vector<StoredMessage>>(
      [this, account, name, uids = std::move(uids), with_bodies,
       mime_of = std::move(mime_of)]() -> Result<std::vector<StoredMessage>> {
        Result<std::optional<MailboxInfo>> info = MailboxStore::mailbox(db_, account, name);
        if (!info.ok()) return info.status();
        std::vector<StoredMessage> out;
        if (!info->has_value()) return out;
        Result<std::vector<MessageEntry>> entries =
            MailboxStore::entries(db_, account, **info, uids);
        if (!entries.ok()) return entries.status();
        out.reserve(entries->size());
        for (MessageEntry& e : *entries) {
          StoredMessage m{std::move(e), {}};
          const bool need_mime = mime_of && m.entry.mime.empty();
          if ((with_bodies || need_mime) && m.entry.extents.empty()) {
            m.body = std::move(m.entry.inline_body);  // no copy of a body kept in the entry
          } else if (with_bodies || need_mime) {
            Result<std::string> body = MailboxStore::read_body(bodies_, m.entry);
            if (!body.ok()) return body.status();
            m.body = std::move(*body);
          }
          if (need_mime) {
            m.entry.mime = mime_of(m.body);
            if (!m.entry.mime.empty()) {
              // The stored entry keeps its inline body: lend it back for the write.
              const bool inline_body = m.entry.extents.empty();
              if (inline_body) m.entry.inline_body.swap(m.body);
              (void)MailboxStore::set_mime(db_, account, **info, m.entry);
              if (inline_body) m.entry.inline_body.swap(m.body);
            }
          }
          m.entry.inline_body.clear();
          out.push_back(std::move(m));
        }
        return out;
      },
      std::move(done));
}

void AccountHub::create(const std::string& account, const std::string& name, uint8_t special_use,
                        StatusDone done) {
  on_lane_status(
      [this, account, name, special_use] {
        return MailboxStore::create_mailbox(db_, account, name, special_use, unix_ms());
      },
      std::move(done));
}

void AccountHub::remove(const std::string& account, const std::string& name, StatusDone done) {
  on_lane_status([this, account, name] { return MailboxStore::delete_mailbox(db_, bodies_, account, name); },
                 [this, account, name, done = std::move(done)](Status s) {
                   if (s.ok()) forget(Key(account, name));
                   done(s);
                 });
}

void AccountHub::rename(const std::string& account, const std::string& from,
                        const std::string& to, StatusDone done) {
  on_lane_status(
      [this, account, from, to] {
        return MailboxStore::rename_mailbox(db_, account, from, to, unix_ms());
      },
      [this, account, from, done = std::move(done)](Status s) {
        if (s.ok()) forget_tree(account, from);
        done(s);
      });
}

void AccountHub::list(const std::string& account, Done<std::vector<MailboxListing>> done) {
  on_lane<std::vector<MailboxListing>>(
      [this, account] { return MailboxStore::list_mailboxes(db_, account); }, std::move(done));
}

void AccountHub::subscribe(const std::string& account, const std::string& name, bool on,
                           StatusDone done) {
  on_lane_status([this, account, name, on] { return MailboxStore::set_subscribed(db_, account, name, on); },
                 std::move(done));
}

void AccountHub::subscriptions(const std::string& account, Done<std::vector<std::string>> done) {
  on_lane<std::vector<std::string>>(
      [this, account] { return MailboxStore::subscriptions(db_, account); }, std::move(done));
}

void AccountHub::delivered(const std::vector<MailboxDelivery>& deliveries) {
  std::set<MailboxView*> changed;
  for (const MailboxDelivery& d : deliveries) {
    if (!d.status.ok() || d.uid == 0) continue;
    auto view = loaded(d.account, d.mailbox);
    if (!view) continue;
    MessageEntry e;
    e.uid = d.uid;
    e.modseq = d.modseq;
    e.flags = d.flags;
    e.size = d.size;
    e.internal_date_ms = d.internal_date_ms;
    view->apply_added({e}, d.uid + 1, d.modseq);
    changed.insert(view.get());
  }
  for (MailboxView* view : changed) view->notify();
}

}  // namespace rm
