// Task: a move-only, type-erased `void()` callable.
//
// Cross-shard messages and blocking-lane jobs carry Tasks. Unlike std::function it accepts
// move-only captures (a unique_ptr, a promise). Thread-safety: a value; moved, not shared.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace rm {

class Task {
 public:
  Task() = default;
  template <typename F, typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, Task>>>
  Task(F&& fn) : impl_(std::make_unique<Impl<std::decay_t<F>>>(std::forward<F>(fn))) {}  // NOLINT

  Task(Task&&) noexcept = default;
  Task& operator=(Task&&) noexcept = default;

  explicit operator bool() const { return impl_ != nullptr; }
  void operator()() { impl_->run(); }

 private:
  struct Base {
    virtual ~Base() = default;
    virtual void run() = 0;
  };
  template <typename F>
  struct Impl final : Base {
    explicit Impl(F&& f) : fn(std::move(f)) {}
    explicit Impl(const F& f) : fn(f) {}
    void run() override { fn(); }
    F fn;
  };
  std::unique_ptr<Base> impl_;
};

}  // namespace rm
