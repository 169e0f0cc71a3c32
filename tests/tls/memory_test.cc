// Measures the heap wolfSSL holds per session (server side), by routing wolfSSL's
// allocations through counting hooks (wolfSSL_SetAllocators) that attribute each block to
// the session being driven when it was allocated. Prints the figures; asserts only loose
// bounds, so that a wolfSSL change that balloons per-session memory is noticed.
#include <gtest/gtest.h>
#include <malloc.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/memory.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

#include "tests/tls/tls_test_util.h"
#include "tls/thread_caches.h"

namespace rm::tls_test {
namespace {

enum Owner : int { kNobody = 0, kServer = 1, kClient = 2 };

std::mutex g_mu;
std::unordered_map<void*, std::pair<size_t, int>>* g_blocks = nullptr;
long g_live[3] = {0, 0, 0};
long g_peak[3] = {0, 0, 0};
int g_owner = kNobody;

void note_alloc(void* p) {
  if (p == nullptr) {
    return;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  size_t n = malloc_usable_size(p);
  (*g_blocks)[p] = {n, g_owner};
  g_live[g_owner] += static_cast<long>(n);
  g_peak[g_owner] = std::max(g_peak[g_owner], g_live[g_owner]);
}

void note_free(void* p) {
  if (p == nullptr) {
    return;
  }
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_blocks->find(p);
  if (it != g_blocks->end()) {  // blocks from before the hooks are not counted
    g_live[it->second.second] -= static_cast<long>(it->second.first);
    g_blocks->erase(it);
  }
}

void* count_malloc(size_t size) {
  void* p = std::malloc(size);
  note_alloc(p);
  return p;
}
void count_free(void* p) {
  note_free(p);
  std::free(p);
}
void* count_realloc(void* p, size_t size) {
  note_free(p);
  void* q = std::realloc(p, size);
  note_alloc(q != nullptr ? q : (size == 0 ? nullptr : p));
  return q;
}

// Installs the hooks for the test's lifetime.
class CountingAllocators {
 public:
  CountingAllocators() {
    g_blocks = new std::unordered_map<void*, std::pair<size_t, int>>();
    ok_ = wolfSSL_SetAllocators(count_malloc, count_free, count_realloc) == 0;
  }
  ~CountingAllocators() {
    (void)wolfSSL_SetAllocators(nullptr, nullptr, nullptr);  // back to malloc/free
    std::lock_guard<std::mutex> lock(g_mu);
    delete g_blocks;
    g_blocks = nullptr;
  }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

// Runs `f` with allocations charged to `owner`.
template <typename F>
auto as(int owner, F&& f) {
  g_owner = owner;
  auto result = f();
  g_owner = kNobody;
  return result;
}

Status pump_tagged(TlsSession& client, TlsSession& server, std::string& cp, std::string& sp) {
  for (int i = 0; i < 100 && (client.ciphertext_bytes() > 0 || server.ciphertext_bytes() > 0);
       ++i) {
    RM_RETURN_IF_ERROR(as(kServer, [&] { return deliver(client, server, sp); }));
    RM_RETURN_IF_ERROR(as(kClient, [&] { return deliver(server, client, cp); }));
  }
  return Status::Ok();
}

TEST(TlsMemoryTest, WolfsslHeapPerServerSession) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ServerFixture fixture = make_server(dir);
  ASSERT_TRUE(fixture.context);

  for (TlsVersion max : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    std::shared_ptr<TlsContext> client_ctx = make_client(TlsVersion::kTls12, max);
    release_tls_thread_caches();
    CountingAllocators hooks;
    ASSERT_TRUE(hooks.ok());
    g_live[kServer] = g_live[kClient] = 0;
    g_peak[kServer] = g_peak[kClient] = 0;
    long created, handshaken, after_bulk;
    {
      auto server = as(kServer, [&] { return std::make_unique<TlsSession>(fixture.context); });
      auto client = as(kClient, [&] { return std::make_unique<TlsSession>(client_ctx); });
      created = g_live[kServer];
      std::string cp, sp;
      ASSERT_TRUE(as(kClient, [&] { return client->handshake_step(); }).ok());
      ASSERT_TRUE(pump_tagged(*client, *server, cp, sp).ok());
      ASSERT_TRUE(server->handshake_done());
      handshaken = g_live[kServer];

      // 1 MiB each way, then idle.
      std::string big(1 << 20, 'm');
      ASSERT_TRUE(as(kClient, [&] { return client->write_plaintext(big); }).ok());
      ASSERT_TRUE(as(kServer, [&] { return server->write_plaintext(big); }).ok());
      ASSERT_TRUE(pump_tagged(*client, *server, cp, sp).ok());
      ASSERT_EQ(sp.size(), big.size());
      ASSERT_EQ(cp.size(), big.size());
      after_bulk = g_live[kServer];
      as(kServer, [&] {
        server.reset();
        return 0;
      });
      as(kClient, [&] {
        client.reset();
        return 0;
      });
    }
    // What the server's calls left behind after the session is gone is the thread's ECC
    // fixed-point cache (thread_caches.h).
    long fp_cache = g_live[kServer];
    as(kServer, [&] {
      release_tls_thread_caches();
      return 0;
    });
    long leaked = g_live[kServer];
    fp_cache -= leaked;
    std::printf(
        "[ memory   ] %s server session (wolfSSL heap): %ld B after wolfSSL_new, "
        "%ld B after the handshake, %ld B idle after 1 MiB each way, peak %ld B; "
        "ECC fixed-point cache built on this thread meanwhile: %ld B\n",
        max == TlsVersion::kTls13 ? "TLS 1.3" : "TLS 1.2", created, handshaken - fp_cache,
        after_bulk - fp_cache, g_peak[kServer] - fp_cache, fp_cache);
    EXPECT_GT(handshaken - fp_cache, 0);
    EXPECT_LT(handshaken - fp_cache, 128 * 1024);
    EXPECT_LT(after_bulk - fp_cache, 128 * 1024);
    EXPECT_EQ(leaked, 0);  // everything charged to the session came back
  }
}

}  // namespace
}  // namespace rm::tls_test
