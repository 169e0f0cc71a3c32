// Status and Result<T>: errors as values.
//
// Every operation that can fail for a reason outside the program (the kernel, the disk, a
// peer, a config file) returns a Status or a Result<T>. An OK Status carries no allocation.
// Thread-safety: values; safe to move between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/base/assert.h"

namespace rm {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (config, command line, request)
  kNotFound,
  kAlreadyExists,
  kIoError,           // the OS said no (errno attached in the message)
  kUnavailable,       // try again later (busy, shutting down)
  kResourceExhausted, // a configured limit was reached
  kUnsupported,       // the kernel or a library lacks a feature we need
  kInternal,
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) { return {StatusCode::kAlreadyExists, std::move(msg)}; }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  // An IoError whose message ends with strerror(err).
  static Status FromErrno(std::string_view what, int err);
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status ResourceExhausted(std::string msg) { return {StatusCode::kResourceExhausted, std::move(msg)}; }
  static Status Unsupported(std::string msg) { return {StatusCode::kUnsupported, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

  Status(const Status& other) : rep_(other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr) {}
  Status& operator=(const Status& other) {
    rep_ = other.rep_ ? std::make_unique<Rep>(*other.rep_) : nullptr;
    return *this;
  }
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : std::string_view(); }
  // "InvalidArgument: message", or "OK".
  std::string to_string() const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  Status(StatusCode code, std::string msg) : rep_(std::make_unique<Rep>(Rep{code, std::move(msg)})) {}
  std::unique_ptr<Rep> rep_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    RM_ASSERT_MSG(!status_.ok(), "a Result built from a Status needs an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    RM_ASSERT(ok());
    return *value_;
  }
  const T& value() const& {
    RM_ASSERT(ok());
    return *value_;
  }
  T&& value() && {
    RM_ASSERT(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace rm

// Returns from the enclosing function when `expr` yields a non-OK Status.
#define RM_RETURN_IF_ERROR(expr)        \
  do {                                  \
    ::rm::Status rm_status_ = (expr);   \
    if (!rm_status_.ok()) {             \
      return rm_status_;                \
    }                                   \
  } while (0)
