// DeliveryService: the delivery side of ringmaild on every shard — a QueueManager for the
// messages the shard owns and a MailboxWriter for the accounts it owns — wired to the SMTP
// service's queue stores so that every committed message is tried at once.
// Thread-safety: start() from the thread that started the runtime; flush() from any shard;
// each shard's parts are used only on that shard.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/runtime/runtime.h"
#include "tools/ringmaild/delivery/mailbox_writer.h"
#include "tools/ringmaild/delivery/queue_manager.h"
#include "tools/ringmaild/smtp_service.h"

namespace rm {

class DeliveryService {
 public:
  DeliveryService(const Options& options, Runtime& runtime, Database& db, BodyStore& bodies,
                  SmtpService& smtp);
  ~DeliveryService();

  // Creates every shard's parts on that shard and loads the queue. Call after the runtime
  // started. Fails when the TLS client context cannot be made.
  Status start();
  // Before start(): what each shard's MailboxWriter tells of the mail it wrote.
  using DeliveryObserver = std::function<void(Shard&, const std::vector<MailboxDelivery>&)>;
  void set_delivery_observer(DeliveryObserver observer) { observer_ = std::move(observer); }
  // Tries `id` (on its owner) or everything now. From a shard thread.
  void flush(std::optional<QueueId> id);
  // Sums of the queue managers' counters (any thread).
  struct Totals {
    uint64_t attempts = 0, delivered = 0, deferred = 0, failed = 0, bounces = 0, scheduled = 0;
  };
  Totals totals() const;
  // The DKIM keys outbound mail is signed with; set at start and after every key change
  // (any thread).
  DkimKeyring& dkim_keys() { return dkim_keys_; }
  // The shard's DNS resolver (made at its first use); null before start_on or after stop_on.
  // On that shard's thread.
  Resolver* resolver(Shard& shard);

 private:
  DkimKeyring dkim_keys_;
  struct PerShard {
    std::unique_ptr<MailboxWriter> writer;
    std::unique_ptr<SmtpTransport> transport;
    std::unique_ptr<QueueManager> manager;
  };
  void start_on(Shard& shard);
  // Takes the shard's parts down on that shard as its loop ends (Shard::at_exit).
  void stop_on(Shard& shard);

  const Options& options_;
  Runtime& runtime_;
  Database& db_;
  BodyStore& bodies_;
  SmtpService& smtp_;
  std::shared_ptr<TlsContext> tls_client_;  // for STARTTLS to other servers
  std::vector<PerShard> shards_;
  DeliveryObserver observer_;
};

}  // namespace rm
