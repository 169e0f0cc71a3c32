// QueueStore against a real Runtime and a real RocksDB: group commit, chunked bodies, the
// blocking lane refusing work, lifetime, and the blocking admin helpers.
#include "store/queue/queue_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/queue/queue_keys.h"
#include "tests/store/store_test_util.h"

namespace rm {
namespace {

using namespace std::chrono_literals;
using test::ready_within;
using test::run_on;
using test::TempDir;

Options options_with_shards(uint32_t shards, uint32_t lane_capacity = 4096) {
  Options options;
  options.runtime.shards = shards;
  options.runtime.blocking_queue_capacity = lane_capacity;
  return options;
}

Envelope make_envelope(QueueId id, const std::string& body, uint32_t chunks) {
  Envelope e;
  e.id = id;
  e.sender = "sender@example.org";
  e.recipients.push_back({"rcpt@example.net", 0, "", Recipient::State::kPending});
  e.listener = "smtp";
  e.received_unix_ms = 1700000000000;
  e.body_bytes = body.size();
  e.body_chunks = chunks;
  return e;
}

// A database in a temporary directory and a started runtime. Members are destroyed in
// reverse order: the runtime (and its blocking lanes) before the database.
class QueueStoreTest : public ::testing::Test {
 protected:
  void start(uint32_t shards, uint32_t lane_capacity = 4096) {
    Result<std::unique_ptr<Database>> db = Database::open(dir_.sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
    rt_ = std::make_unique<Runtime>(options_with_shards(shards, lane_capacity));
    const Status status = rt_->start(RuntimeStart{.handle_signals = false});
    ASSERT_TRUE(status.ok()) << status.to_string();
    stores_.resize(shards);
    for (uint32_t i = 0; i < shards; ++i) {
      run_on(*rt_, static_cast<int>(i),
             [&, i] { stores_[i] = std::make_unique<QueueStore>(*Shard::current(), *db_); });
    }
  }

  void TearDown() override {
    for (size_t i = 0; i < stores_.size(); ++i) {
      if (!stores_[i]) {
        continue;
      }
      run_on(*rt_, static_cast<int>(i), [&, i] {
        EXPECT_TRUE(stores_[i]->idle());
        stores_[i].reset();
      });
    }
    rt_.reset();
    if (db_) {
      EXPECT_TRUE(db_->close().ok());
    }
  }

  // Commits a one-chunk message on shard `index`; returns its callback's status.
  Status commit_one(int index, QueueId id, const std::string& body) {
    std::promise<Status> done;
    rt_->post(index, [&] {
      store(index).commit(make_envelope(id, body, body.empty() ? 0 : 1), body,
                          [&](Status s) { done.set_value(std::move(s)); });
    });
    std::future<Status> future = done.get_future();
    EXPECT_TRUE(ready_within(future));
    return future.get();
  }

  QueueStore& store(int index) { return *stores_[static_cast<size_t>(index)]; }
  Database& db() { return *db_; }
  Runtime& rt() { return *rt_; }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Runtime> rt_;
  std::vector<std::unique_ptr<QueueStore>> stores_;
};

TEST_F(QueueStoreTest, BackToBackCommitsShareFsyncs) {
  start(1);
  constexpr int kCommits = 200;
  QueueIdGenerator gen(0);
  std::vector<QueueId> ids;
  for (int i = 0; i < kCommits; ++i) {
    ids.push_back(gen.next());
  }
  std::promise<void> all_done;
  std::vector<int> calls(kCommits, 0);
  int ok = 0;
  int finished = 0;
  rt().post(0, [&] {
    for (int i = 0; i < kCommits; ++i) {
      const std::string body = "Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n";
      store(0).commit(make_envelope(ids[i], body, 1), body, [&, i](Status s) {
        EXPECT_EQ(Shard::current(), &rt().shard(0));
        ++calls[i];
        ok += s.ok() ? 1 : 0;
        if (++finished == kCommits) {
          all_done.set_value();
        }
      });
    }
  });
  std::future<void> future = all_done.get_future();
  ASSERT_TRUE(ready_within(future));
  EXPECT_EQ(ok, kCommits);
  EXPECT_TRUE(std::all_of(calls.begin(), calls.end(), [](int n) { return n == 1; }));
  const uint64_t fsyncs = store(0).counters().fsyncs.load();
  EXPECT_EQ(store(0).counters().commits.load(), uint64_t{kCommits});
  EXPECT_LT(fsyncs, uint64_t{kCommits});
  std::printf("group commit: %d commits took %llu fsyncs\n", kCommits,
              static_cast<unsigned long long>(fsyncs));

  Result<std::vector<Envelope>> listed = QueueStore::list_queue(db());
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), size_t{kCommits});
  for (int i = 0; i < kCommits; ++i) {
    const Envelope& e = (*listed)[static_cast<size_t>(i)];
    EXPECT_EQ(e.id, ids[static_cast<size_t>(i)]);
    Result<std::string> body = QueueStore::read_body(db(), e);
    ASSERT_TRUE(body.ok()) << body.status().to_string();
    EXPECT_EQ(*body, "Subject: " + std::to_string(i) + "\r\n\r\nbody\r\n");
  }
}

TEST_F(QueueStoreTest, ChunkedMessageReadsBackByteIdentical) {
  start(1);
  std::string body;
  std::vector<std::string> chunks;
  for (size_t size : {200000u, 5000u, 3u, 70000u}) {
    std::string chunk;
    for (size_t i = 0; i < size; ++i) {
      chunk.push_back(static_cast<char>((i * 131 + size) & 0xff));
    }
    body += chunk;
    chunks.push_back(std::move(chunk));
  }
  const QueueId id = QueueIdGenerator(0).next();
  std::promise<Status> done;
  rt().post(0, [&] {
    for (uint32_t i = 0; i < 3; ++i) {
      store(0).append_chunk(id, i, chunks[i]);
    }
    store(0).commit(make_envelope(id, body, 4), chunks[3],
                    [&](Status s) { done.set_value(std::move(s)); });
  });
  std::future<Status> future = done.get_future();
  ASSERT_TRUE(ready_within(future));
  const Status status = future.get();
  ASSERT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(store(0).counters().chunks.load(), 3u);

  Result<Envelope> e = QueueStore::load_envelope(db(), id);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(*e, make_envelope(id, body, 4));
  Result<std::string> back = QueueStore::read_body(db(), *e);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_TRUE(*back == body);

  // An envelope that disagrees with its chunks is reported, not trusted.
  Envelope wrong = *e;
  wrong.body_bytes += 1;
  EXPECT_EQ(QueueStore::read_body(db(), wrong).status().code(), StatusCode::kInternal);
  wrong = *e;
  wrong.body_chunks = 5;
  EXPECT_EQ(QueueStore::read_body(db(), wrong).status().code(), StatusCode::kInternal);
}

TEST_F(QueueStoreTest, MessageWithoutBodyAndInvalidCommits) {
  start(1);
  QueueIdGenerator gen(0);
  const QueueId empty_id = gen.next();
  ASSERT_TRUE(commit_one(0, empty_id, "").ok());
  Result<Envelope> e = QueueStore::load_envelope(db(), empty_id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(QueueStore::read_body(db(), *e).value(), "");

  // A chunk for a message that says it has none: refused, later, on the shard.
  std::promise<Status> done;
  bool returned = false;
  rt().post(0, [&] {
    Envelope bad = make_envelope(gen.next(), "x", 0);
    store(0).commit(bad, "x", [&](Status s) {
      EXPECT_TRUE(returned) << "the callback ran inside commit()";
      done.set_value(std::move(s));
    });
    returned = true;
  });
  std::future<Status> future = done.get_future();
  ASSERT_TRUE(ready_within(future));
  EXPECT_EQ(future.get().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store(0).counters().failures.load(), 1u);
}

TEST_F(QueueStoreTest, OrphanChunksAreRemoved) {
  start(1);
  QueueIdGenerator gen(0);
  const QueueId orphan = gen.next();
  const QueueId kept = gen.next();
  const QueueId discarded = gen.next();
  std::promise<Status> done;
  rt().post(0, [&] {
    store(0).append_chunk(orphan, 0, std::string(10000, 'o'));
    store(0).append_chunk(orphan, 1, "orphan tail");
    store(0).append_chunk(discarded, 0, "abandoned");
    store(0).discard(discarded, 1);
    store(0).append_chunk(kept, 0, "kept ");
    store(0).commit(make_envelope(kept, "kept body", 2), "body",
                    [&](Status s) { done.set_value(std::move(s)); });
  });
  std::future<Status> future = done.get_future();
  ASSERT_TRUE(ready_within(future));
  ASSERT_TRUE(future.get().ok());
  auto chunk_count = [&](QueueId id) {
    size_t n = 0;
    EXPECT_TRUE(db().scan_prefix(Family::kBlob, queue_keys::chunk_prefix(id),
                                 [&](std::string_view, std::string_view) { return ++n > 0; })
                    .ok());
    return n;
  };
  EXPECT_EQ(chunk_count(orphan), 2u);
  EXPECT_EQ(chunk_count(discarded), 0u);

  ASSERT_TRUE(QueueStore::remove_orphan_chunks(db()).ok());
  EXPECT_EQ(chunk_count(orphan), 0u);
  EXPECT_EQ(chunk_count(kept), 2u);
  Result<std::string> body =
      QueueStore::read_body(db(), QueueStore::load_envelope(db(), kept).value());
  ASSERT_TRUE(body.ok()) << body.status().to_string();
  EXPECT_EQ(*body, "kept body");
  ASSERT_TRUE(QueueStore::remove_orphan_chunks(db()).ok());  // nothing left to do
  EXPECT_EQ(chunk_count(kept), 2u);
}

TEST_F(QueueStoreTest, DeleteMessageAndSetHeld) {
  start(1);
  QueueIdGenerator gen(0);
  const QueueId a = gen.next();
  const QueueId b = gen.next();
  ASSERT_TRUE(commit_one(0, a, std::string(9000, 'a')).ok());
  ASSERT_TRUE(commit_one(0, b, "b").ok());

  ASSERT_TRUE(QueueStore::set_held(db(), a, true).ok());
  EXPECT_TRUE(QueueStore::load_envelope(db(), a)->held);
  EXPECT_FALSE(QueueStore::load_envelope(db(), b)->held);
  ASSERT_TRUE(QueueStore::set_held(db(), a, false).ok());
  EXPECT_FALSE(QueueStore::load_envelope(db(), a)->held);

  ASSERT_TRUE(QueueStore::delete_message(db(), a).ok());
  EXPECT_EQ(QueueStore::load_envelope(db(), a).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(db().get(Family::kBlob, queue_keys::chunk_key(a, 0))->has_value());
  EXPECT_EQ(QueueStore::delete_message(db(), a).code(), StatusCode::kNotFound);
  EXPECT_EQ(QueueStore::set_held(db(), a, true).code(), StatusCode::kNotFound);
  Result<std::vector<Envelope>> listed = QueueStore::list_queue(db());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, b);
}

TEST_F(QueueStoreTest, CorruptEnvelopeIsReportedAndCanStillBeDeleted) {
  start(1);
  const QueueId id = QueueIdGenerator(0).next();
  ASSERT_TRUE(commit_one(0, id, "body").ok());
  rocksdb::WriteBatch batch;
  batch.Put(db().handle(Family::kQueue), queue_keys::envelope_key(id), "\x01garbage");
  ASSERT_TRUE(db().write(batch, true).ok());
  EXPECT_EQ(QueueStore::load_envelope(db(), id).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(QueueStore::list_queue(db()).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(QueueStore::delete_message(db(), id).ok());
  EXPECT_FALSE(db().get(Family::kBlob, queue_keys::chunk_key(id, 0))->has_value());
  EXPECT_TRUE(QueueStore::list_queue(db())->empty());
}

TEST_F(QueueStoreTest, AFullLaneKeepsWritesPendingUntilTheNextSubmission) {
  start(1, /*lane_capacity=*/1);
  std::atomic<bool> release{false};
  std::promise<void> blocker_done;
  QueueIdGenerator gen(0);
  const QueueId first = gen.next();
  const QueueId second = gen.next();
  std::promise<Status> first_done, second_done;
  run_on(rt(), 0, [&] {
    Shard& shard = *Shard::current();
    ASSERT_TRUE(shard
                    .run_blocking([&] {
                      while (!release) {
                        std::this_thread::sleep_for(1ms);
                      }
                      shard.complete_from_lane([&] { blocker_done.set_value(); });
                    })
                    .ok());
    store(0).commit(make_envelope(first, "1", 1), "1",
                    [&](Status s) { first_done.set_value(std::move(s)); });
    EXPECT_EQ(store(0).counters().lane_full.load(), 1u);
    EXPECT_FALSE(store(0).idle());
  });
  std::future<Status> first_future = first_done.get_future();
  EXPECT_FALSE(ready_within(first_future, std::chrono::seconds(0)));
  release = true;
  std::future<void> blocker = blocker_done.get_future();
  ASSERT_TRUE(ready_within(blocker));
  rt().post(0, [&] {
    store(0).commit(make_envelope(second, "2", 1), "2",
                    [&](Status s) { second_done.set_value(std::move(s)); });
  });
  std::future<Status> second_future = second_done.get_future();
  ASSERT_TRUE(ready_within(first_future));
  ASSERT_TRUE(ready_within(second_future));
  EXPECT_TRUE(first_future.get().ok());
  EXPECT_TRUE(second_future.get().ok());
  EXPECT_EQ(store(0).counters().fsyncs.load(), 1u);  // both in one group
  EXPECT_EQ(QueueStore::list_queue(db())->size(), 2u);
}

TEST_F(QueueStoreTest, DestroyingTheStoreStillAnswersEveryCallback) {
  start(1);
  std::atomic<bool> release{false};
  QueueIdGenerator gen(0);
  std::promise<Status> in_flight_done, pending_done;
  run_on(rt(), 0, [&] {
    Shard& shard = *Shard::current();
    ASSERT_TRUE(shard
                    .run_blocking([&] {
                      while (!release) {
                        std::this_thread::sleep_for(1ms);
                      }
                      shard.complete_from_lane([] {});
                    })
                    .ok());
    // Queued on the lane behind the blocker: in flight.
    store(0).commit(make_envelope(gen.next(), "a", 1), "a",
                    [&](Status s) { in_flight_done.set_value(std::move(s)); });
    // Waits for the in-flight job: pending.
    store(0).commit(make_envelope(gen.next(), "b", 1), "b",
                    [&](Status s) { pending_done.set_value(std::move(s)); });
    stores_[0].reset();
  });
  std::future<Status> pending = pending_done.get_future();
  ASSERT_TRUE(ready_within(pending, std::chrono::seconds(0)));
  EXPECT_EQ(pending.get().code(), StatusCode::kUnavailable);
  release = true;
  std::future<Status> in_flight = in_flight_done.get_future();
  ASSERT_TRUE(ready_within(in_flight));
  EXPECT_TRUE(in_flight.get().ok());
  EXPECT_EQ(QueueStore::list_queue(db())->size(), 1u);
  stores_.clear();
}

TEST_F(QueueStoreTest, TwoShardsShareTheDatabase) {
  start(2);
  constexpr int kPerShard = 100;
  std::promise<void> done[2];
  std::atomic<int> ok{0};
  for (int s = 0; s < 2; ++s) {
    rt().post(s, [&, s] {
      QueueIdGenerator gen(s);
      auto remaining = std::make_shared<int>(kPerShard);
      for (int i = 0; i < kPerShard; ++i) {
        const std::string body = "shard " + std::to_string(s) + " message " + std::to_string(i);
        store(s).commit(make_envelope(gen.next(), body, 1), body, [&, s, remaining](Status st) {
          ok += st.ok() ? 1 : 0;
          if (--*remaining == 0) {
            done[s].set_value();
          }
        });
      }
    });
  }
  for (auto& d : done) {
    std::future<void> f = d.get_future();
    ASSERT_TRUE(ready_within(f));
  }
  EXPECT_EQ(ok.load(), 2 * kPerShard);
  Result<std::vector<Envelope>> listed = QueueStore::list_queue(db());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), size_t{2 * kPerShard});
  std::map<int, int> per_shard;
  for (const Envelope& e : *listed) {
    ++per_shard[e.id.shard()];
    EXPECT_TRUE(QueueStore::read_body(db(), e).ok());
  }
  EXPECT_EQ(per_shard[0], kPerShard);
  EXPECT_EQ(per_shard[1], kPerShard);
}

TEST_F(QueueStoreTest, CommittedMessagesSurviveAReopen) {
  start(1);
  const QueueId id = QueueIdGenerator(0).next();
  const std::string body(50000, 'z');
  ASSERT_TRUE(commit_one(0, id, body).ok());
  run_on(rt(), 0, [&] { stores_[0].reset(); });
  stores_.clear();
  rt_.reset();
  ASSERT_TRUE(db_->close().ok());
  Result<std::unique_ptr<Database>> reopened = Database::open(dir_.sub("db"));
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  db_ = std::move(reopened).value();
  Result<Envelope> e = QueueStore::load_envelope(db(), id);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(QueueStore::read_body(db(), *e).value(), body);
}

}  // namespace
}  // namespace rm
