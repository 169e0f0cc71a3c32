#include "tools/ringmaild/delivery/mailbox_writer.h"

#include <ctime>
#include <utility>

#include "core/base/clock.h"
#include "core/base/log.h"

namespace rm {
namespace {}  // namespace

void MailboxWriter::deliver(std::vector<MailboxDelivery> deliveries, Done done) {
  pending_.push_back(Batch{std::move(deliveries), std::move(done)});
  submit();
}

void MailboxWriter::submit() {
  if (in_flight_ || pending_.empty()) {
    return;
  }
  auto batches = std::make_shared<std::vector<Batch>>(std::move(pending_));
  pending_.clear();
  Shard* shard = &shard_;
  Status queued =
      shard_.run_blocking([this, shard, batches, alive = alive_, &db = db_, &bodies = bodies_] {
        std::vector<MailboxDelivery> all;
        for (Batch& b : *batches) {
          for (MailboxDelivery& d : b.deliveries) {
            all.push_back(std::move(d));
          }
        }
        const Status status = MailboxStore::deliver(db, bodies, all, unix_ms());
        if (!status.ok()) {
          RM_LOG(kWarn, "mailbox_write_failed").kv("error", status);
        }
        size_t next = 0;
        for (Batch& b : *batches) {
          for (MailboxDelivery& d : b.deliveries) {
            d = std::move(all[next++]);
          }
        }
        shard->complete_from_lane([this, batches, alive] {
          if (!*alive) {
            return;
          }
          in_flight_ = false;
          for (Batch& b : *batches) {
            if (observer_) observer_(b.deliveries);
            b.done(std::move(b.deliveries));
          }
          submit();
        });
      });
  if (!queued.ok()) {
    // The lane is full: answer "try later" (never inside deliver()); the queue retries.
    shard_.defer([batches, queued] {
      for (Batch& b : *batches) {
        for (MailboxDelivery& d : b.deliveries) {
          d.status = queued;
        }
        b.done(std::move(b.deliveries));
      }
    });
    return;
  }
  in_flight_ = true;
}

}  // namespace rm
