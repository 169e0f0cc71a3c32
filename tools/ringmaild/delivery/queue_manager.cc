#include "tools/ringmaild/delivery/queue_manager.h"

#include <ctime>
#include <map>
#include <utility>

#include "core/base/clock.h"
#include "core/base/log.h"
#include "core/runtime/runtime.h"
#include "proto/dsn/dsn_builder.h"
#include "store/account/address_resolver.h"
#include "tools/ringmaild/delivery/file_delivery.h"
#include "tools/ringmaild/delivery/ownership.h"

namespace rm {
namespace {

constexpr int64_t kLaneRetryMs = 50;
constexpr int64_t kStoreRetryMs = 1000;

bool pending(const Recipient& r) {
  return r.state == Recipient::State::kPending || r.state == Recipient::State::kDeferred;
}

// The enhanced status code in a reply such as "550 5.1.1 text" ("" when there is none).
std::string status_of(const std::string& reply) {
  const size_t space = reply.find(' ');
  if (space == std::string::npos) {
    return "";
  }
  const size_t end = reply.find(' ', space + 1);
  return reply.substr(space + 1, end == std::string::npos ? std::string::npos : end - space - 1);
}

}  // namespace

// One delivery attempt of one message.
struct QueueManager::Attempt {
  struct Leg {
    size_t recipient;  // index into envelope.recipients
    DeliveryTarget target;
  };
  // Per recipient: outstanding deliveries and what they said.
  struct Outcome {
    bool temporary = false;
    bool permanent = false;
    std::string reply;
  };

  Envelope envelope;
  std::string body;
  bool body_loaded = false;
  std::map<int, std::vector<Leg>> mailbox_legs;  // owner shard -> deliveries
  std::vector<Leg> file_legs;
  // (destination domain, forwarded) -> recipients: forwarded copies get an SRS sender.
  std::map<std::pair<std::string, bool>, std::vector<Leg>> remote_legs;
  std::unordered_map<size_t, Outcome> outcomes;
  int legs_open = 0;

  void temporary(size_t i, std::string reply) {
    Outcome& o = outcomes[i];
    o.temporary = true;
    o.reply = std::move(reply);
  }
  void permanent(size_t i, std::string reply) {
    Outcome& o = outcomes[i];
    o.permanent = true;
    if (!o.temporary) {
      o.reply = std::move(reply);
    }
  }
  void delivered(size_t i, std::string reply) {
    Outcome& o = outcomes[i];
    if (!o.temporary && !o.permanent) {
      o.reply = std::move(reply);
    }
  }
  bool inline_body() const {
    return envelope.body_extents.size() == 1 &&
           envelope.body_extents[0].segment == kInlineBodySegment;
  }
};

QueueManager::QueueManager(Shard& shard, DeliveryEnv env)
    : shard_(shard), env_(std::move(env)), retry_(RetryPolicy::from(env_.options->queue)) {}

QueueManager::~QueueManager() {
  *alive_ = false;
  if (timer_ != 0) {
    shard_.cancel_timer(timer_);
  }
}

// ---- the schedule ----

void QueueManager::load() {
  using Loaded = Result<std::vector<QueueStore::Due>>;
  auto loaded = std::make_shared<Loaded>(Status::Unavailable("not read"));
  Database* db = env_.db;
  const int shards = shard_.runtime().shard_count();
  const int me = shard_.index();
  on_lane(
      [db, loaded, shards, me] {
        *loaded =
            QueueStore::list_due(*db, [&](QueueId id) { return message_owner(id, shards) == me; });
      },
      [this, loaded] {
        if (!loaded->ok()) {
          RM_LOG(kError, "queue_load_failed").kv("error", loaded->status());
          return;
        }
        for (const QueueStore::Due& due : **loaded) {
          schedule(due.id.value, due.next_attempt_unix_ms);
        }
        RM_LOG(kInfo, "queue_loaded").kv("messages", uint64_t{(*loaded)->size()});
      });
}

void QueueManager::enqueue(const Envelope& envelope, const std::string* inline_body) {
  if (!env_.options->queue.deliver) {
    return;  // deliveries off: the mail stays queued until a restart with them on
  }
  Fresh fresh{envelope, std::nullopt};
  if (inline_body != nullptr) {
    fresh.body = *inline_body;
  }
  fresh_.emplace(envelope.id.value, std::move(fresh));
  ready_.push_back(envelope.id.value);
  pump();
}

void QueueManager::flush(std::optional<QueueId> id) {
  const int64_t now = unix_ms();
  if (id) {
    if (active_.count(id->value) == 0) {
      schedule(id->value, now);
    }
    return;
  }
  for (uint64_t scheduled_id : schedule_.ids()) {
    schedule(scheduled_id, now);
  }
}

void QueueManager::schedule(uint64_t id, int64_t at_unix_ms) {
  schedule_.schedule(id, at_unix_ms);
  counters_.scheduled.store(schedule_.size(), std::memory_order_relaxed);
  arm_timer();
}

void QueueManager::arm_timer() {
  const std::optional<int64_t> at = schedule_.next_due();
  if (!at) {
    return;
  }
  if (timer_ != 0 && timer_at_unix_ms_ <= *at) {
    return;
  }
  if (timer_ != 0) {
    shard_.cancel_timer(timer_);
  }
  timer_at_unix_ms_ = *at;
  const int64_t wait = std::max<int64_t>(0, *at - unix_ms());
  timer_ = shard_.start_timer(monotonic_ms() + wait, [this] {
    timer_ = 0;
    on_timer();
  });
}

void QueueManager::on_timer() {
  for (uint64_t id : schedule_.take_due(unix_ms())) {
    ready_.push_back(id);
  }
  counters_.scheduled.store(schedule_.size(), std::memory_order_relaxed);
  pump();
  arm_timer();
}

void QueueManager::pump() {
  if (!env_.options->queue.deliver) {
    return;
  }
  while (!ready_.empty() && active_.size() < env_.options->queue.deliveries_max) {
    const uint64_t id = ready_.front();
    ready_.pop_front();
    if (active_.count(id) == 0) {
      start(id);
    }
  }
}

void QueueManager::end(uint64_t id) {
  active_.erase(id);
  pump();
}

// ---- one attempt ----

void QueueManager::start(uint64_t id) {
  auto att = std::make_shared<Attempt>();
  active_.emplace(id, att);
  schedule_.erase(id);
  if (auto it = fresh_.find(id); it != fresh_.end()) {
    att->envelope = std::move(it->second.envelope);
    if (it->second.body) {
      att->body = std::move(*it->second.body);
      att->body_loaded = true;
    }
    fresh_.erase(it);
    begin(att);
    return;
  }
  auto loaded = std::make_shared<Result<Envelope>>(Status::Unavailable("not read"));
  Database* db = env_.db;
  on_lane([db, id, loaded] { *loaded = QueueStore::load_envelope(*db, QueueId{id}); },
          [this, att, id, loaded] {
            if (loaded->status().code() == StatusCode::kNotFound) {
              end(id);  // deleted meanwhile
              return;
            }
            if (!loaded->ok()) {
              RM_LOG(kWarn, "queue_read_failed")
                  .kv("queue_id", QueueId{id}.text())
                  .kv("error", loaded->status());
              end(id);
              schedule(id, unix_ms() + kStoreRetryMs);
              return;
            }
            att->envelope = std::move(**loaded);
            begin(att);
          });
}

void QueueManager::begin(const std::shared_ptr<Attempt>& att) {
  Envelope& env = att->envelope;
  if (env.held) {
    end(env.id.value);  // "queue release" schedules it again
    return;
  }
  counters_.attempts.fetch_add(1, std::memory_order_relaxed);
  const bool expired = retry_.expired(env.received_unix_ms, unix_ms());
  const Directory& dir = env_.directory(shard_);
  const int shards = shard_.runtime().shard_count();
  for (size_t i = 0; i < env.recipients.size(); ++i) {
    const Recipient& r = env.recipients[i];
    if (!pending(r)) {
      continue;
    }
    if (expired) {
      att->permanent(i, "554 4.4.7 Delivery time expired; last try: " +
                            (r.last_reply.empty() ? std::string("none") : r.last_reply));
      continue;
    }
    // A local recipient that resolves to remote targets is forwarded; so is a bounce to one
    // of our SRS addresses, which goes to the address it reverses to.
    bool forwarded = is_local_address(dir, r.address);
    std::string address = r.address;
    if (env_.srs) {
      // Checked at RCPT against the clock; here against the arrival, so a stay in the queue
      // does not expire it.
      if (std::optional<srs::Rewritten> back =
              env_.srs->reverse_recipient(r.address, env.received_unix_ms / 1000)) {
        if (!back->ok()) {
          att->permanent(i, "550 5.1.1 " + SrsPolicy::refusal_text(r.address, back->error));
          continue;
        }
        address = std::move(back->address);
        forwarded = true;
      }
    }
    // The address an SRS bounce goes back to keeps its case (the resolver lower-cases; local
    // parts elsewhere may be case-sensitive).
    const std::vector<DeliveryTarget> targets =
        address != r.address && !is_local_address(dir, address)
            ? std::vector<DeliveryTarget>{{DeliveryTarget::Kind::kRemote, address, ""}}
            : resolve_address(dir, address);
    if (targets.empty()) {
      att->permanent(i, "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown");
      continue;
    }
    att->outcomes[i];  // delivered unless a leg says otherwise
    for (const DeliveryTarget& t : targets) {
      switch (t.kind) {
        case DeliveryTarget::Kind::kMailbox:
          att->mailbox_legs[account_owner(t.address, shards)].push_back({i, t});
          break;
        case DeliveryTarget::Kind::kMaildir:
        case DeliveryTarget::Kind::kMbox:
          att->file_legs.push_back({i, t});
          break;
        case DeliveryTarget::Kind::kRemote:
          att->remote_legs[{domain_of(t.address), forwarded}].push_back({i, t});
          break;
      }
    }
  }
  const bool needs_body = !att->file_legs.empty() || !att->remote_legs.empty() ||
                          (!att->mailbox_legs.empty() && att->inline_body());
  if (!needs_body || att->body_loaded) {
    dispatch(att);
    return;
  }
  auto body = std::make_shared<Result<std::string>>(Status::Unavailable("not read"));
  Database* db = env_.db;
  BodyStore* bodies = env_.bodies;
  on_lane([db, bodies, att, body] { *body = QueueStore::read_body(*db, *bodies, att->envelope); },
          [this, att, body] {
            if (!body->ok()) {
              RM_LOG(kError, "queue_body_unreadable")
                  .kv("queue_id", att->envelope.id.text())
                  .kv("error", body->status());
              for (auto& [i, outcome] : att->outcomes) {
                att->temporary(i, "451 4.3.0 queue file read error");
              }
              att->mailbox_legs.clear();
              att->file_legs.clear();
              att->remote_legs.clear();
            } else {
              att->body = std::move(**body);
              att->body_loaded = true;
            }
            dispatch(att);
          });
}

void QueueManager::dispatch(const std::shared_ptr<Attempt>& att) {
  att->legs_open = static_cast<int>(att->mailbox_legs.size() + att->remote_legs.size()) +
                   (att->file_legs.empty() ? 0 : 1);
  if (att->legs_open == 0) {
    finish(att);
    return;
  }
  deliver_mailboxes(att);
  deliver_files(att);
  deliver_remote(att);
}

void QueueManager::deliver_remote(const std::shared_ptr<Attempt>& att) {
  if (att->remote_legs.empty()) {
    return;
  }
  std::shared_ptr<const DkimKeySet> keys =
      env_.dkim_keys != nullptr && env_.options->dkim.sign_outbound ? env_.dkim_keys->get()
                                                                    : nullptr;
  if (keys == nullptr || keys->empty()) {
    relay(att, std::make_shared<const std::string>(att->body));
    return;
  }
  // RSA signing takes a millisecond or two: on the lane, as the body read is.
  auto signed_body = std::make_shared<std::string>();
  on_lane(
      [att, keys, signed_body] {
        const std::string domain = dkim_signing_domain(*keys, att->body, att->envelope.sender);
        Result<std::string> fields =
            domain.empty()
                ? Result<std::string>(std::string())
                : dkim_sign(*keys, domain, att->body, static_cast<uint64_t>(unix_ms() / 1000));
        if (!fields.ok()) {
          RM_LOG(kWarn, "dkim_sign_failed")
              .kv("queue_id", att->envelope.id.text())
              .kv("domain", domain)
              .kv("error", fields.status());
        }
        *signed_body = (fields.ok() ? *fields : std::string()) + att->body;
      },
      [this, att, signed_body] { relay(att, signed_body); });
}

void QueueManager::relay(const std::shared_ptr<Attempt>& att,
                         std::shared_ptr<const std::string> body) {
  const Envelope& env = att->envelope;
  for (const auto& [key, legs] : att->remote_legs) {
    const auto& [domain, forwarded] = key;
    RelayJob job;
    job.domain = domain;
    job.sender = env.sender;
    if (forwarded && env_.srs && !is_local_address(env_.directory(shard_), env.sender)) {
      job.sender = env_.srs->forward_sender(env.sender, unix_ms() / 1000);
    }
    for (const Attempt::Leg& leg : legs) {
      const Recipient& original = env.recipients[leg.recipient];
      // DSN parameters belong to the envelope recipient, not to addresses an alias made.
      const bool same = leg.target.address == lower_ascii(original.address);
      job.recipients.push_back(RelayRecipient{leg.target.address,
                                              same ? original.notify : uint8_t{0},
                                              same ? original.orcpt : std::string()});
    }
    job.body = body;
    job.body_type = static_cast<smtp::Body>(env.body_type);
    job.smtputf8 = env.smtputf8;
    job.ret = static_cast<smtp::Ret>(env.ret);
    job.envid = env.envid;
    const std::vector<Attempt::Leg>* legs_ptr = &legs;
    env_.transport(shard_).deliver(
        std::move(job), [this, att, legs_ptr, alive = alive_](std::vector<RelayResult> results) {
          if (!*alive) {
            return;
          }
          for (size_t k = 0; k < results.size() && k < legs_ptr->size(); ++k) {
            const size_t i = (*legs_ptr)[k].recipient;
            switch (results[k].outcome) {
              case RelayResult::Outcome::kDelivered:
                att->delivered(i, results[k].reply);
                break;
              case RelayResult::Outcome::kPermanent:
                att->permanent(i, results[k].reply);
                break;
              case RelayResult::Outcome::kTemporary:
                att->temporary(i, results[k].reply);
                break;
            }
          }
          leg_done(att);
        });
  }
}

void QueueManager::deliver_mailboxes(const std::shared_ptr<Attempt>& att) {
  const Envelope& env = att->envelope;
  const int home = shard_.index();
  Runtime& rt = shard_.runtime();
  for (auto& [owner, legs] : att->mailbox_legs) {
    std::vector<MailboxDelivery> batch;
    for (const Attempt::Leg& leg : legs) {
      MailboxDelivery d;
      d.account = leg.target.address;
      if (env.quarantine) {
        d.mailbox = env_.options->dmarc.quarantine_mailbox;  // DMARC p=quarantine
      }
      if (att->inline_body()) {
        d.inline_body = att->body;
      } else {
        d.extents = env.body_extents;
      }
      d.size = env.body_bytes;
      d.internal_date_ms = env.received_unix_ms;
      d.queue_id = env.id.value;
      batch.push_back(std::move(d));
    }
    const std::vector<Attempt::Leg>* legs_ptr = &legs;
    rt.submit_to(owner, [this, &rt, home, att, legs_ptr, alive = alive_, batch = std::move(batch),
                         writer_of = env_.mailbox_writer]() mutable {
      writer_of(*Shard::current())
          .deliver(std::move(batch),
                   [this, &rt, home, att, legs_ptr, alive](std::vector<MailboxDelivery> results) {
                     rt.submit_to(home, [this, att, legs_ptr, alive, results = std::move(results)] {
                       if (!*alive) {
                         return;
                       }
                       for (size_t k = 0; k < results.size(); ++k) {
                         const size_t i = (*legs_ptr)[k].recipient;
                         const MailboxDelivery& d = results[k];
                         if (d.status.ok()) {
                           att->delivered(i, "250 2.0.0 delivered to mailbox " + d.account +
                                                 " (uid " + std::to_string(d.uid) + ")");
                         } else {
                           att->temporary(i, "451 4.3.0 mailbox write failed: " +
                                                 std::string(d.status.message()));
                         }
                       }
                       leg_done(att);
                     });
                   });
    });
  }
}

void QueueManager::deliver_files(const std::shared_ptr<Attempt>& att) {
  if (att->file_legs.empty()) {
    return;
  }
  auto targets = std::make_shared<std::vector<FileDelivery>>();
  for (const Attempt::Leg& leg : att->file_legs) {
    const auto kind = leg.target.kind == DeliveryTarget::Kind::kMbox ? FileDelivery::Kind::kMbox
                                                                     : FileDelivery::Kind::kMaildir;
    targets->push_back(FileDelivery{kind, leg.target.path, leg.target.address, Status::Ok()});
    if (att->envelope.quarantine) {
      targets->back().folder = env_.options->dmarc.quarantine_mailbox;  // Maildir++ only
    }
  }
  const std::string hostname = env_.options->server.hostname;
  on_lane(
      [att, targets, hostname] {
        rm::deliver_files(*targets, att->envelope.sender, att->body,
                          att->envelope.received_unix_ms / 1000, hostname);
      },
      [this, att, targets] {
        for (size_t k = 0; k < targets->size(); ++k) {
          const size_t i = att->file_legs[k].recipient;
          const FileDelivery& t = (*targets)[k];
          const char* what = t.kind == FileDelivery::Kind::kMbox ? "mbox " : "maildir ";
          if (t.status.ok()) {
            att->delivered(i, "250 2.0.0 delivered to " + std::string(what) + t.path);
          } else {
            att->temporary(i, "451 4.3.0 " + std::string(what) + t.path + ": " +
                                  std::string(t.status.message()));
          }
        }
        leg_done(att);
      });
}

void QueueManager::leg_done(const std::shared_ptr<Attempt>& att) {
  if (--att->legs_open == 0) {
    finish(att);
  }
}

void QueueManager::finish(const std::shared_ptr<Attempt>& att) {
  Envelope& env = att->envelope;
  std::vector<size_t> failed;
  for (auto& [i, outcome] : att->outcomes) {
    Recipient& r = env.recipients[i];
    r.last_reply = outcome.reply;
    if (outcome.temporary) {
      r.state = Recipient::State::kDeferred;
      counters_.deferred.fetch_add(1, std::memory_order_relaxed);
    } else if (outcome.permanent) {
      r.state = Recipient::State::kFailed;
      counters_.failed.fetch_add(1, std::memory_order_relaxed);
      failed.push_back(i);
    } else {
      r.state = Recipient::State::kDelivered;
      counters_.delivered.fetch_add(1, std::memory_order_relaxed);
    }
    RM_LOG(kInfo, "delivery")
        .kv("queue_id", env.id.text())
        .kv("to", r.address)
        .kv("status", r.state == Recipient::State::kDelivered ? "sent"
                      : r.state == Recipient::State::kFailed  ? "bounced"
                                                              : "deferred")
        .kv("reply", r.last_reply);
  }
  std::vector<Report> reports;
  for (size_t i : failed) {
    reports.push_back({i, dsn::Action::kFailed});
  }
  if (delay_warning_due(env)) {
    for (auto& [i, outcome] : att->outcomes) {
      if (env.recipients[i].state == Recipient::State::kDeferred) {
        reports.push_back({i, dsn::Action::kDelayed});
      }
    }
  }
  if (!reports.empty() && !env.sender.empty()) {
    queue_report(att, std::move(reports));
    return;
  }
  record(att);
}

// The optional delay notice (queue.delay_warning_ms, like Postfix's delay_warning_time):
// due once, at the first attempt that ends after the message has waited that long — the
// attempt before it ended earlier. That one ended one back-off before this attempt's
// scheduled time (next_attempt_unix_ms, not yet overwritten), so nothing extra is stored.
bool QueueManager::delay_warning_due(const Envelope& env) const {
  const int64_t delay = env_.options->queue.delay_warning_ms;
  if (delay == 0) {
    return false;
  }
  const int64_t previous = env.attempts == 0
                               ? env.received_unix_ms
                               : env.next_attempt_unix_ms - retry_.delay_ms(env.attempts);
  return previous - env.received_unix_ms < delay && unix_ms() - env.received_unix_ms >= delay;
}

// Queues a DSN for the recipients in `reports` that asked for one (failed, or delayed), then
// records the state.
void QueueManager::queue_report(const std::shared_ptr<Attempt>& att, std::vector<Report> reports) {
  if (!att->body_loaded) {
    auto body = std::make_shared<Result<std::string>>(Status::Unavailable("not read"));
    Database* db = env_.db;
    BodyStore* bodies = env_.bodies;
    on_lane([db, bodies, att, body] { *body = QueueStore::read_body(*db, *bodies, att->envelope); },
            [this, att, body, reports = std::move(reports)]() mutable {
              att->body = body->ok() ? std::move(**body) : std::string();
              att->body_loaded = true;
              queue_report(att, std::move(reports));
            });
    return;
  }
  const Envelope& env = att->envelope;
  const int64_t now_s = unix_ms() / 1000;
  dsn::DsnRequest request;
  request.reporting_mta = env_.options->server.hostname;
  request.queue_id = env.id.text();
  request.original_sender = env.sender;
  request.envid = env.envid;
  request.ret = static_cast<smtp::Ret>(env.ret);
  request.arrival_unix_s = env.received_unix_ms / 1000;
  request.date_unix_s = now_s;
  request.original = att->body;
  request.returned_bytes_max = env_.options->queue.bounce_returned_bytes_max;
  const int64_t retry_until_s = (env.received_unix_ms + retry_.lifetime_ms) / 1000;
  for (const Report& report : reports) {
    const Recipient& r = env.recipients[report.recipient];
    if (!dsn::should_notify(r.notify, report.action, env.sender)) {
      continue;
    }
    const bool delayed = report.action == dsn::Action::kDelayed;
    request.recipients.push_back(
        dsn::RecipientReport{r.address, r.orcpt, report.action, status_of(r.last_reply), "", "smtp",
                             r.last_reply, now_s, delayed ? retry_until_s : 0});
  }
  if (request.recipients.empty()) {
    record(att);
    return;
  }
  Envelope bounce;
  bounce.id = env_.next_queue_id(shard_);
  request.message_id = "<" + bounce.id.text() + ".dsn@" + request.reporting_mta + ">";
  dsn::Dsn report = dsn::build_dsn(request);
  bounce.recipients.push_back(
      Recipient{env.sender, smtp::kNotifyNever, "", Recipient::State::kPending, ""});
  bounce.listener = "bounce";
  bounce.received_unix_ms = unix_ms();
  bounce.body_bytes = report.message.size();
  bounce.body_type = report.eight_bit ? kBody8BitMime : kBody7Bit;
  bounce.smtputf8 = report.utf8_headers;
  const bool local_sender = is_local_address(env_.directory(shard_), env.sender);
  env_.queue(shard_).commit(
      std::move(bounce), std::move(report.message),
      [this, att, alive = alive_](Status s) {
        if (!*alive) {
          return;
        }
        if (!s.ok()) {
          // Not recorded: the failed recipients are tried (and bounce) again later.
          RM_LOG(kWarn, "bounce_queue_failed")
              .kv("queue_id", att->envelope.id.text())
              .kv("error", s);
          end(att->envelope.id.value);
          schedule(att->envelope.id.value, unix_ms() + kStoreRetryMs);
          return;
        }
        counters_.bounces.fetch_add(1, std::memory_order_relaxed);
        record(att);
      },
      /*inline_allowed=*/!local_sender);
}

// Writes the attempt's outcome: the message leaves the queue, or waits for its next try.
void QueueManager::record(const std::shared_ptr<Attempt>& att) {
  Envelope& env = att->envelope;
  bool remaining = false;
  for (const Recipient& r : env.recipients) {
    remaining = remaining || pending(r);
  }
  const uint64_t id = env.id.value;
  int64_t next = 0;
  if (remaining) {
    ++env.attempts;
    next = unix_ms() + retry_.delay_ms(env.attempts);
    env.next_attempt_unix_ms = next;
  }
  att->body.clear();
  write_state(StateWrite{std::move(env), !remaining, [this, id, remaining, next](Status s) {
                           end(id);
                           if (!s.ok() && s.code() != StatusCode::kNotFound) {
                             RM_LOG(kWarn, "queue_state_write_failed")
                                 .kv("queue_id", QueueId{id}.text())
                                 .kv("error", s);
                             schedule(id, unix_ms() + kStoreRetryMs);
                             return;
                           }
                           if (remaining) {
                             schedule(id, next);
                           }
                         }});
}

// ---- group writes of delivery state ----

void QueueManager::write_state(StateWrite write) {
  state_writes_.push_back(std::move(write));
  submit_state_writes();
}

void QueueManager::submit_state_writes() {
  if (state_write_in_flight_ || state_writes_.empty()) {
    return;
  }
  state_write_in_flight_ = true;
  auto writes = std::make_shared<std::vector<StateWrite>>(std::move(state_writes_));
  state_writes_.clear();
  auto status = std::make_shared<Status>();
  Database* db = env_.db;
  BodyStore* bodies = env_.bodies;
  on_lane(
      [db, bodies, writes, status] {
        std::vector<Envelope> updated;
        std::vector<Envelope> removed;
        for (StateWrite& w : *writes) {
          (w.remove ? removed : updated).push_back(w.envelope);
        }
        *status = QueueStore::write_delivery_state(*db, *bodies, updated, removed);
      },
      [this, writes, status] {
        state_write_in_flight_ = false;
        for (StateWrite& w : *writes) {
          w.done(*status);
        }
        submit_state_writes();
      });
}

void QueueManager::on_lane(std::function<void()> job, std::function<void()> done) {
  Shard* shard = &shard_;
  Status queued = shard_.run_blocking([shard, job, done, alive = alive_] {
    job();
    shard->complete_from_lane([done, alive] {
      if (*alive) {
        done();
      }
    });
  });
  if (queued.ok()) {
    return;
  }
  // The lane's queue is full: try again shortly rather than lose the step.
  shard_.start_timer(monotonic_ms() + kLaneRetryMs, [this, alive = alive_, job = std::move(job),
                                                     done = std::move(done)]() mutable {
    if (*alive) {
      on_lane(std::move(job), std::move(done));
    }
  });
}

}  // namespace rm
