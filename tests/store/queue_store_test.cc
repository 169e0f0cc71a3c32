// QueueStore against a real Runtime, a real RocksDB and real segment files: group commit,
// chunked bodies, segment rotation and removal, recovery, checksums, the blocking lane
// refusing work, lifetime, and the blocking admin helpers.
#include "store/queue/queue_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

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

Envelope make_envelope(QueueId id, const std::string& body) {
  Envelope e;
  e.id = id;
  e.sender = "sender@example.org";
  e.recipients.push_back({"rcpt@example.net", 0, "", Recipient::State::kPending});
  e.listener = "smtp";
  e.received_unix_ms = 1700000000000;
  e.body_bytes = body.size();
  return e;
}

// The segment files in `dir`.
size_t segment_files(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  while (d != nullptr) {
    const dirent* entry = readdir(d);
    if (entry == nullptr) {
      break;
    }
    n += std::string_view(entry->d_name).ends_with(".seg") ? 1 : 0;
  }
  if (d != nullptr) {
    closedir(d);
  }
  return n;
}

// A database in a temporary directory and a started runtime. Members are destroyed in
// reverse order: the runtime (and its blocking lanes) before the database.
class QueueStoreTest : public ::testing::Test {
 protected:
  // Bodies go to segment files unless `inline_max` says otherwise.
  void start(uint32_t shards, uint32_t lane_capacity = 4096,
             uint64_t segment_bytes = QueueStore::Config{}.segment_bytes, uint64_t inline_max = 0) {
    Result<std::unique_ptr<Database>> db = Database::open(dir_.sub("db"));
    ASSERT_TRUE(db.ok()) << db.status().to_string();
    db_ = std::move(db).value();
    open_bodies();
    rt_ = std::make_unique<Runtime>(options_with_shards(shards, lane_capacity));
    const Status status = rt_->start(RuntimeStart{.handle_signals = false});
    ASSERT_TRUE(status.ok()) << status.to_string();
    stores_.resize(shards);
    for (uint32_t i = 0; i < shards; ++i) {
      run_on(*rt_, static_cast<int>(i), [&, i, segment_bytes, inline_max] {
        stores_[i] = std::make_unique<QueueStore>(
            *Shard::current(), *db_, *bodies_,
            QueueStore::Config{.segment_bytes = segment_bytes, .inline_body_max = inline_max});
      });
    }
  }

  void open_bodies() {
    Result<std::unique_ptr<BodyStore>> bodies = BodyStore::open(dir_.sub("bodies"));
    ASSERT_TRUE(bodies.ok()) << bodies.status().to_string();
    bodies_ = std::move(bodies).value();
    const Status recovered = QueueStore::recover(*db_, *bodies_);
    ASSERT_TRUE(recovered.ok()) << recovered.to_string();
  }

  // Stops the stores and the runtime as a crash would leave them (nothing sealed), then
  // reopens the database and the body store the way ringmaild starts.
  void restart() {
    for (size_t i = 0; i < stores_.size(); ++i) {
      run_on(*rt_, static_cast<int>(i), [&, i] { stores_[i].reset(); });
    }
    stores_.clear();
    rt_.reset();
    bodies_.reset();
    ASSERT_TRUE(db_->close().ok());
    Result<std::unique_ptr<Database>> reopened = Database::open(dir_.sub("db"));
    ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
    db_ = std::move(reopened).value();
    open_bodies();
  }

  std::string bodies_dir() { return dir_.sub("bodies"); }

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
      store(index).commit(make_envelope(id, body), body,
                          [&](Status s) { done.set_value(std::move(s)); });
    });
    std::future<Status> future = done.get_future();
    EXPECT_TRUE(ready_within(future));
    return future.get();
  }

  QueueStore& store(int index) { return *stores_[static_cast<size_t>(index)]; }
  Database& db() { return *db_; }
  BodyStore& bodies() { return *bodies_; }
  Runtime& rt() { return *rt_; }

  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<BodyStore> bodies_;
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
      store(0).commit(make_envelope(ids[i], body), body, [&, i](Status s) {
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
    Result<std::string> body = QueueStore::read_body(db(), bodies(), e);
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
      store(0).append_chunk(id, chunks[i]);
    }
    store(0).commit(make_envelope(id, body), chunks[3],
                    [&](Status s) { done.set_value(std::move(s)); });
  });
  std::future<Status> future = done.get_future();
  ASSERT_TRUE(ready_within(future));
  const Status status = future.get();
  ASSERT_TRUE(status.ok()) << status.to_string();
  EXPECT_EQ(store(0).counters().chunks.load(), 3u);

  Result<Envelope> e = QueueStore::load_envelope(db(), id);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  ASSERT_EQ(e->body_extents.size(), 4u);
  Envelope expected = make_envelope(id, body);
  expected.body_extents = e->body_extents;
  EXPECT_EQ(*e, expected);
  Result<std::string> back = QueueStore::read_body(db(), bodies(), *e);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_TRUE(*back == body);

  // An envelope that disagrees with its extents is reported, not trusted.
  Envelope wrong = *e;
  wrong.body_bytes += 1;
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), wrong).status().code(), StatusCode::kInternal);
  wrong = *e;
  wrong.body_extents[1].crc ^= 1;
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), wrong).status().code(), StatusCode::kInternal);
}

TEST_F(QueueStoreTest, MessageWithoutBodyAndInvalidCommits) {
  start(1);
  QueueIdGenerator gen(0);
  const QueueId empty_id = gen.next();
  ASSERT_TRUE(commit_one(0, empty_id, "").ok());
  Result<Envelope> e = QueueStore::load_envelope(db(), empty_id);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), *e).value(), "");

  // A body of another size than the envelope says: refused, later, on the shard.
  std::promise<Status> done;
  bool returned = false;
  rt().post(0, [&] {
    Envelope bad = make_envelope(gen.next(), "xyz");
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

TEST_F(QueueStoreTest, RecoveryRemovesSegmentsNoMessageReferences) {
  start(1, 4096, /*segment_bytes=*/16384);
  QueueIdGenerator gen(0);
  const QueueId orphan = gen.next();
  const QueueId kept = gen.next();
  const QueueId discarded = gen.next();
  std::promise<Status> done;
  rt().post(0, [&] {
    // Each 10000-byte piece fills most of a 16 KiB segment: about one segment per piece.
    store(0).append_chunk(orphan, std::string(10000, 'o'));
    store(0).append_chunk(orphan, std::string(10000, 'p'));
    store(0).append_chunk(discarded, std::string(10000, 'd'));
    store(0).discard(discarded);
    store(0).append_chunk(kept, std::string(10000, 'k'));
    store(0).commit(make_envelope(kept, std::string(10000, 'k') + "body"), "body",
                    [&](Status s) { done.set_value(std::move(s)); });
  });
  std::future<Status> future = done.get_future();
  ASSERT_TRUE(ready_within(future));
  ASSERT_TRUE(future.get().ok());
  // The discarded message's segment is gone; the orphan (a session a crash would cut)
  // still holds its two; `kept` is in the open one.
  EXPECT_EQ(segment_files(bodies_dir()), 3u);

  // A restart keeps only what a queued message references.
  restart();
  EXPECT_EQ(segment_files(bodies_dir()), 1u);
  Result<std::string> body =
      QueueStore::read_body(db(), bodies(), QueueStore::load_envelope(db(), kept).value());
  ASSERT_TRUE(body.ok()) << body.status().to_string();
  EXPECT_EQ(*body, std::string(10000, 'k') + "body");

  // Deleting the last message frees every sealed segment.
  ASSERT_TRUE(QueueStore::delete_message(db(), bodies(), kept).ok());
  EXPECT_EQ(segment_files(bodies_dir()), 0u);
  EXPECT_EQ(bodies().segment_count(), 0u);
}

TEST_F(QueueStoreTest, SegmentsRotateAndGoWhenTheirMessagesAreDeleted) {
  start(1, 4096, /*segment_bytes=*/64 * 1024);
  QueueIdGenerator gen(0);
  std::vector<QueueId> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(gen.next());
    ASSERT_TRUE(
        commit_one(0, ids.back(), std::string(10000, static_cast<char>('a' + i % 26))).ok());
  }
  const size_t files = segment_files(bodies_dir());
  EXPECT_GE(files, 6u);  // 400 kB in 64 KiB segments
  for (QueueId id : ids) {
    ASSERT_TRUE(QueueStore::delete_message(db(), bodies(), id).ok());
  }
  // Only the open segment stays (its writer may still append); its bytes are holes now.
  EXPECT_EQ(segment_files(bodies_dir()), 1u);
  EXPECT_GT(bodies().counters().holes_punched.load(), 0u);
}

TEST_F(QueueStoreTest, ACorruptedBodyFailsItsChecksum) {
  start(1);
  const QueueId id = QueueIdGenerator(0).next();
  ASSERT_TRUE(commit_one(0, id, std::string(5000, 'c')).ok());
  Result<Envelope> e = QueueStore::load_envelope(db(), id);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->body_extents.size(), 1u);
  const std::string path = bodies().segment_path(e->body_extents[0].segment);
  const int fd = ::open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "X", 1, static_cast<off_t>(e->body_extents[0].offset + 100)), 1);
  ::close(fd);
  Result<std::string> body = QueueStore::read_body(db(), bodies(), *e);
  EXPECT_EQ(body.status().code(), StatusCode::kInternal);
  EXPECT_NE(body.status().message().find("checksum"), std::string_view::npos);
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

  ASSERT_TRUE(QueueStore::delete_message(db(), bodies(), a).ok());
  EXPECT_EQ(QueueStore::load_envelope(db(), a).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(QueueStore::delete_message(db(), bodies(), a).code(), StatusCode::kNotFound);
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
  ASSERT_TRUE(QueueStore::delete_message(db(), bodies(), id).ok());
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
    store(0).commit(make_envelope(first, "1"), "1",
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
    store(0).commit(make_envelope(second, "2"), "2",
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
    store(0).commit(make_envelope(gen.next(), "a"), "a",
                    [&](Status s) { in_flight_done.set_value(std::move(s)); });
    // Waits for the in-flight job: pending.
    store(0).commit(make_envelope(gen.next(), "b"), "b",
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
        store(s).commit(make_envelope(gen.next(), body), body, [&, s, remaining](Status st) {
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
    EXPECT_TRUE(QueueStore::read_body(db(), bodies(), e).ok());
  }
  EXPECT_EQ(per_shard[0], kPerShard);
  EXPECT_EQ(per_shard[1], kPerShard);
}

TEST_F(QueueStoreTest, SmallBodiesGoWithTheirEnvelopeIntoTheDatabase) {
  start(1, 4096, QueueStore::Config{}.segment_bytes, /*inline_max=*/1000);
  QueueIdGenerator gen(0);
  const QueueId small = gen.next();
  const QueueId large = gen.next();
  const QueueId chunked = gen.next();
  ASSERT_TRUE(commit_one(0, small, std::string(1000, 's')).ok());
  ASSERT_TRUE(commit_one(0, large, std::string(1001, 'l')).ok());
  std::promise<Status> done;
  rt().post(0, [&] {
    store(0).append_chunk(chunked, "x");  // arrived in chunks: never inline
    store(0).commit(make_envelope(chunked, "xy"), "y",
                    [&](Status s) { done.set_value(std::move(s)); });
  });
  std::future<Status> future = done.get_future();
  ASSERT_TRUE(ready_within(future));
  ASSERT_TRUE(future.get().ok());

  const Envelope s = QueueStore::load_envelope(db(), small).value();
  ASSERT_EQ(s.body_extents.size(), 1u);
  EXPECT_EQ(s.body_extents[0].segment, kInlineBodySegment);
  EXPECT_NE(QueueStore::load_envelope(db(), large)->body_extents[0].segment, kInlineBodySegment);
  EXPECT_EQ(QueueStore::load_envelope(db(), chunked)->body_extents.size(), 2u);
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), s).value(), std::string(1000, 's'));
  restart();
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), s).value(), std::string(1000, 's'));
  ASSERT_TRUE(QueueStore::delete_message(db(), bodies(), small).ok());
  EXPECT_FALSE(db().get(Family::kBlob, queue_keys::envelope_key(small))->has_value());
  Envelope gone = s;
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), gone).status().code(), StatusCode::kInternal);
}

TEST_F(QueueStoreTest, AHeaderPrefixGoesInFrontOfWholeAndChunkedBodies) {
  start(1);
  QueueIdGenerator gen(0);
  const QueueId whole = gen.next();
  const QueueId chunked = gen.next();
  const std::string prefix = "Authentication-Results: mx.test; spf=pass\r\n";
  std::promise<Status> done_whole;
  std::promise<Status> done_chunked;
  rt().post(0, [&] {
    store(0).commit(
        make_envelope(whole, "Subject: w\r\n\r\nw\r\n"), "Subject: w\r\n\r\nw\r\n",
        [&](Status s) { done_whole.set_value(std::move(s)); }, true, prefix);
    store(0).append_chunk(chunked, std::string(70000, 'a'));
    store(0).commit(
        make_envelope(chunked, std::string(70000, 'a') + "end"), "end",
        [&](Status s) { done_chunked.set_value(std::move(s)); }, false, prefix);
  });
  std::future<Status> f1 = done_whole.get_future();
  std::future<Status> f2 = done_chunked.get_future();
  ASSERT_TRUE(ready_within(f1));
  ASSERT_TRUE(ready_within(f2));
  ASSERT_TRUE(f1.get().ok());
  ASSERT_TRUE(f2.get().ok());

  const Envelope w = QueueStore::load_envelope(db(), whole).value();
  EXPECT_EQ(w.body_extents.size(), 1u);
  EXPECT_EQ(w.body_bytes, prefix.size() + std::string("Subject: w\r\n\r\nw\r\n").size());
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), w).value(), prefix + "Subject: w\r\n\r\nw\r\n");
  const Envelope c = QueueStore::load_envelope(db(), chunked).value();
  ASSERT_EQ(c.body_extents.size(), 3u);  // the prefix, the chunk, the last chunk
  EXPECT_EQ(c.body_extents[0].length, prefix.size());
  restart();
  EXPECT_TRUE(QueueStore::read_body(db(), bodies(), c).value() ==
              prefix + std::string(70000, 'a') + "end");
}

TEST_F(QueueStoreTest, ListDueSkipsHeldUnownedAndUnreadableEntries) {
  start(1);
  QueueIdGenerator gen(0);
  const QueueId due = gen.next();
  const QueueId held = gen.next();
  const QueueId corrupt = gen.next();
  const QueueId other = QueueIdGenerator(1).next();
  for (QueueId id : {due, held, corrupt, other}) {
    ASSERT_TRUE(commit_one(0, id, "x").ok());
  }
  ASSERT_TRUE(QueueStore::set_held(db(), held, true).ok());
  rocksdb::WriteBatch batch;
  batch.Put(db().handle(Family::kQueue), queue_keys::envelope_key(corrupt), "\x02garbage");
  ASSERT_TRUE(db().write(batch, true).ok());
  Result<std::vector<QueueStore::Due>> list =
      QueueStore::list_due(db(), [](QueueId id) { return id.shard() == 0; });
  ASSERT_TRUE(list.ok()) << list.status().to_string();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, due);
  EXPECT_EQ((*list)[0].next_attempt_unix_ms, 0);
}

TEST_F(QueueStoreTest, CommittedMessagesSurviveAReopen) {
  start(1);
  const QueueId id = QueueIdGenerator(0).next();
  const std::string body(50000, 'z');
  ASSERT_TRUE(commit_one(0, id, body).ok());
  restart();
  Result<Envelope> e = QueueStore::load_envelope(db(), id);
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ(QueueStore::read_body(db(), bodies(), *e).value(), body);
}

}  // namespace
}  // namespace rm
