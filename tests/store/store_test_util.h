// Helpers for the store tests: a temporary directory under /tmp (removed afterwards) and a
// way to run code on a shard and wait for it.
// Thread-safety: test-thread helpers.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <string>

#include "core/runtime/runtime.h"

namespace rm::test {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/rm_store_test.XXXXXX";
    const char* made = mkdtemp(pattern);
    EXPECT_NE(made, nullptr);
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `fn` on shard `index` and waits (bounded) for it to return.
inline void run_on(Runtime& rt, int index, const std::function<void()>& fn) {
  std::promise<void> ran;
  rt.post(index, [&] {
    fn();
    ran.set_value();
  });
  std::future<void> future = ran.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

// Waits (bounded) for `future`; false on timeout.
template <typename T>
bool ready_within(std::future<T>& future, std::chrono::seconds bound = std::chrono::seconds(30)) {
  return future.wait_for(bound) == std::future_status::ready;
}

}  // namespace rm::test
