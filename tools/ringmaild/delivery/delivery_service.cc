#include "tools/ringmaild/delivery/delivery_service.h"

#include "tools/ringmaild/delivery/ownership.h"

namespace rm {

DeliveryService::DeliveryService(const Options& options, Runtime& runtime, Database& db,
                                 BodyStore& bodies, SmtpService& smtp)
    : options_(options),
      runtime_(runtime),
      db_(db),
      bodies_(bodies),
      smtp_(smtp),
      shards_(static_cast<size_t>(runtime.shard_count())) {
  // Inbound checks ask their DNS questions through the delivery resolver, sharing its cache.
  smtp_.set_resolver_source([this](Shard& shard) { return resolver(shard); });
}

Resolver* DeliveryService::resolver(Shard& shard) {
  SmtpTransport* transport = shards_[static_cast<size_t>(shard.index())].transport.get();
  return transport != nullptr ? transport->resolver() : nullptr;
}

// The runtime has stopped (its threads are joined) before this runs.
DeliveryService::~DeliveryService() = default;

Status DeliveryService::start() {
  // Opportunistic STARTTLS accepts any certificate, as Postfix's "may" level does.
  Result<std::shared_ptr<TlsContext>> tls = TlsContext::create_client(false, "");
  if (!tls.ok()) {
    return tls.status();
  }
  tls_client_ = *tls;
  for (int i = 0; i < runtime_.shard_count(); ++i) {
    runtime_.post(i, [this] { start_on(*Shard::current()); });
  }
  return Status::Ok();
}

void DeliveryService::start_on(Shard& shard) {
  PerShard& mine = shards_[static_cast<size_t>(shard.index())];
  mine.writer = std::make_unique<MailboxWriter>(shard, db_, bodies_);
  if (observer_) {
    mine.writer->set_observer([this, &shard](const std::vector<MailboxDelivery>& deliveries) {
      observer_(shard, deliveries);
    });
  }
  mine.transport = std::make_unique<SmtpTransport>(shard, options_, tls_client_);
  DeliveryEnv env;
  env.options = &options_;
  env.db = &db_;
  env.bodies = &bodies_;
  env.directory = [this](Shard& s) -> const Directory& { return smtp_.directory(s); };
  env.queue = [this](Shard& s) -> QueueStore& { return *smtp_.shard_state(s).queue; };
  env.next_queue_id = [this](Shard& s) { return smtp_.shard_state(s).ids->next(); };
  env.mailbox_writer = [this](Shard& s) -> MailboxWriter& {
    return *shards_[static_cast<size_t>(s.index())].writer;
  };
  env.transport = [this](Shard& s) -> SmtpTransport& {
    return *shards_[static_cast<size_t>(s.index())].transport;
  };
  env.srs = smtp_.srs();
  env.dkim_keys = &dkim_keys_;
  mine.manager = std::make_unique<QueueManager>(shard, std::move(env));
  QueueManager* manager = mine.manager.get();
  smtp_.shard_state(shard).queue->set_commit_listener(
      [manager](const Envelope& envelope, const std::string* inline_body) {
        manager->enqueue(envelope, inline_body);
      });
  manager->load();
  shard.at_exit([this, &shard] { stop_on(shard); });
}

void DeliveryService::stop_on(Shard& shard) {
  PerShard& mine = shards_[static_cast<size_t>(shard.index())];
  if (mine.manager) {
    smtp_.shard_state(shard).queue->set_commit_listener(nullptr);
  }
  mine.manager.reset();
  mine.transport.reset();
  mine.writer.reset();
}

void DeliveryService::flush(std::optional<QueueId> id) {
  const int shards = runtime_.shard_count();
  for (int i = 0; i < shards; ++i) {
    if (id && message_owner(*id, shards) != i) {
      continue;
    }
    runtime_.submit_to(i, [this, i, id] {
      if (QueueManager* m = shards_[static_cast<size_t>(i)].manager.get()) {
        m->flush(id);
      }
    });
  }
}

DeliveryService::Totals DeliveryService::totals() const {
  Totals t;
  for (const PerShard& s : shards_) {
    if (!s.manager) {
      continue;
    }
    const QueueManagerCounters& c = s.manager->counters();
    t.attempts += c.attempts.load(std::memory_order_relaxed);
    t.delivered += c.delivered.load(std::memory_order_relaxed);
    t.deferred += c.deferred.load(std::memory_order_relaxed);
    t.failed += c.failed.load(std::memory_order_relaxed);
    t.bounces += c.bounces.load(std::memory_order_relaxed);
    t.scheduled += c.scheduled.load(std::memory_order_relaxed);
  }
  return t;
}

}  // namespace rm
