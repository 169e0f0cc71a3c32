// See tls_session.h.
#include "tls/tls_session.h"

// <wolfssl/options.h> comes before every other wolfSSL header (sorted order keeps it so): it
// fixes the configuration, and so the struct layouts, of the installed library.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <algorithm>
#include <utility>

#include "tls/wolfssl_support.h"

namespace rm {
namespace {

constexpr int kAlertLevelFatal = 2;          // TLS AlertLevel fatal(2)
constexpr size_t kReadChunk = 16384;         // one record's worth of plaintext
constexpr size_t kWriteChunk = 1 << 20;      // wolfSSL_write takes an int length
constexpr size_t kKeepInputCapacity = 4096;  // an idle session keeps at most this

std::string alert_text(int code) {
  const char* text = wolfSSL_alert_desc_string_long(code);
  std::string out = text != nullptr ? text : "unknown";
  out += " (";
  out += std::to_string(code);
  out += ")";
  return out;
}

}  // namespace

TlsSession::TlsSession(std::shared_ptr<TlsContext> context)
    : context_(std::move(context)),
      server_(context_ != nullptr && context_->role() == TlsContext::Role::kServer) {
  if (context_ == nullptr) {
    status_ = Status::InvalidArgument("tls: session without a context");
    return;
  }
  ssl_ = wolfSSL_new(context_->native());
  if (ssl_ == nullptr) {
    status_ = Status::Internal("tls: wolfSSL_new failed (out of memory?)");
    return;
  }
  // The context's memory I/O callbacks receive these pointers.
  wolfSSL_SetIOReadCtx(ssl_, &io_);
  wolfSSL_SetIOWriteCtx(ssl_, &io_);
}

TlsSession::~TlsSession() {
  if (ssl_ != nullptr) {
    wolfSSL_free(ssl_);
  }
}

Status TlsSession::set_sni(const std::string& hostname) {
  RM_RETURN_IF_ERROR(status_);
  if (server_) {
    return Status::InvalidArgument("tls: set_sni is for client sessions");
  }
  if (started_) {
    return Status::InvalidArgument("tls: set_sni after the handshake started");
  }
  if (hostname.empty() || hostname.size() > 255) {
    return Status::InvalidArgument("tls: bad SNI host name");
  }
  int rc = wolfSSL_UseSNI(ssl_, WOLFSSL_SNI_HOST_NAME, hostname.data(),
                          static_cast<unsigned short>(hostname.size()));
  if (rc != WOLFSSL_SUCCESS) {
    return Status::Internal("tls: wolfSSL_UseSNI: " + tls_internal::wolfssl_error_string(rc));
  }
  if (context_->verify_peer()) {
    rc = wolfSSL_check_domain_name(ssl_, hostname.c_str());
    if (rc != WOLFSSL_SUCCESS) {
      return Status::Internal("tls: wolfSSL_check_domain_name: " +
                              tls_internal::wolfssl_error_string(rc));
    }
  }
  return Status::Ok();
}

Status TlsSession::feed_ciphertext(std::string_view bytes) {
  RM_RETURN_IF_ERROR(status_);
  if (bytes.size() > kMaxInputBytes - io_.in_available()) {
    return Status::ResourceExhausted("tls: more than " + std::to_string(kMaxInputBytes) +
                                     " bytes of unread ciphertext");
  }
  if (io_.in_pos > 0) {  // drop what wolfSSL has read before growing the buffer
    io_.in.erase(0, io_.in_pos);
    io_.in_pos = 0;
  }
  io_.in.append(bytes);
  return Status::Ok();
}

Status TlsSession::handshake_step() {
  RM_RETURN_IF_ERROR(status_);
  if (handshake_done_) {
    return Status::Ok();
  }
  if (closed_) {
    return Status::Unavailable("tls: session closed before the handshake completed");
  }
  started_ = true;
  int ret = server_ ? wolfSSL_accept(ssl_) : wolfSSL_connect(ssl_);
  if (ret != WOLFSSL_SUCCESS) {
    int err = wolfSSL_get_error(ssl_, ret);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
      return Status::Ok();  // in progress: waits for the peer's next flight
    }
    return fail(ret, "handshake");
  }
  handshake_done_ = true;
  if (!pending_.empty()) {
    std::string queued = std::exchange(pending_, std::string());
    return write_now(queued);
  }
  return Status::Ok();
}

Result<size_t> TlsSession::read_plaintext(std::string& out) {
  RM_RETURN_IF_ERROR(handshake_step());
  if (!handshake_done_) {
    release_idle_input();
    return size_t{0};
  }
  size_t added = 0;
  while (!peer_closed_) {
    size_t old = out.size();
    out.resize(old + kReadChunk);
    int n = wolfSSL_read(ssl_, out.data() + old, static_cast<int>(kReadChunk));
    if (n > 0) {
      out.resize(old + static_cast<size_t>(n));
      added += static_cast<size_t>(n);
      continue;
    }
    out.resize(old);
    int err = wolfSSL_get_error(ssl_, n);
    if (err == WOLFSSL_ERROR_WANT_READ) {
      break;
    }
    if (err == WOLFSSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      break;
    }
    return fail(n, "read");
  }
  if (peer_closed_) {
    // Nothing may follow close_notify; whatever did is dropped rather than kept forever.
    io_.in.clear();
    io_.in_pos = 0;
  }
  release_idle_input();
  return added;
}

Status TlsSession::write_plaintext(std::string_view bytes) {
  RM_RETURN_IF_ERROR(status_);
  if (closed_) {
    return Status::Unavailable("tls: write after close");
  }
  if (!handshake_done_) {
    pending_.append(bytes);
    return Status::Ok();
  }
  return write_now(bytes);
}

Status TlsSession::write_now(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t chunk = std::min(bytes.size(), kWriteChunk);
    // The send callback takes everything, so wolfSSL writes the whole chunk (as records of
    // at most 16 KiB) or fails.
    int n = wolfSSL_write(ssl_, bytes.data(), static_cast<int>(chunk));
    if (n <= 0) {
      return fail(n, "write");
    }
    bytes.remove_prefix(std::min(bytes.size(), static_cast<size_t>(n)));
  }
  return Status::Ok();
}

std::string TlsSession::take_ciphertext() {
  std::string out;
  out.swap(io_.out);
  return out;
}

void TlsSession::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  pending_.clear();
  pending_.shrink_to_fit();
  if (ssl_ != nullptr && status_.ok()) {
    // Sends close_notify; the return value only says whether the peer's has arrived yet.
    (void)wolfSSL_shutdown(ssl_);
  }
}

std::string_view TlsSession::protocol_version() const {
  if (!handshake_done_ || ssl_ == nullptr) {
    return {};
  }
  const char* v = wolfSSL_get_version(ssl_);
  return v != nullptr ? std::string_view(v) : std::string_view();
}

std::string_view TlsSession::cipher() const {
  if (!handshake_done_ || ssl_ == nullptr) {
    return {};
  }
  const char* c = wolfSSL_get_cipher_name(ssl_);
  return c != nullptr ? std::string_view(c) : std::string_view();
}

Status TlsSession::fail(int ret, std::string_view operation) {
  int err = wolfSSL_get_error(ssl_, ret);
  std::string msg = "tls: ";
  msg += operation;
  msg += " failed: ";
  msg += tls_internal::wolfssl_error_string(err);
  WOLFSSL_ALERT_HISTORY history{};
  if (wolfSSL_get_alert_history(ssl_, &history) == WOLFSSL_SUCCESS) {
    if (history.last_rx.level == kAlertLevelFatal) {
      msg += "; peer sent alert " + alert_text(history.last_rx.code);
    }
    if (history.last_tx.level == kAlertLevelFatal) {
      msg += "; sent alert " + alert_text(history.last_tx.code);
    }
  }
  status_ = Status::IoError(std::move(msg));
  pending_.clear();
  wolfSSL_ERR_clear_error();  // the reason is in status_; keep the thread's queue empty
  return status_;
}

void TlsSession::release_idle_input() {
  if (io_.in_available() == 0 && io_.in.capacity() > kKeepInputCapacity) {
    std::string().swap(io_.in);
    io_.in_pos = 0;
  }
}

}  // namespace rm
