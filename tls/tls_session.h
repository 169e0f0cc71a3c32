// TlsSession: the TLS state of one connection as a sans-I/O engine — ciphertext in,
// plaintext out and the other way round; the caller moves bytes to and from the socket.
//
//   on bytes received:  feed_ciphertext(bytes); read_plaintext(plain); send(take_ciphertext())
//   to send a reply:    write_plaintext(reply); send(take_ciphertext())
//   client start:       handshake_step(); send(take_ciphertext())
//
// Every call may produce ciphertext (handshake flights, alerts, TLS 1.3 tickets and key
// updates while reading), so take_ciphertext() after each one. The handshake runs inside
// read_plaintext()/handshake_step() as the peer's bytes arrive; plaintext written before it
// completes is queued and encrypted as soon as it does.
// Errors: a fatal TLS error (bad record, failed MAC, a peer's fatal alert, no common
// version/cipher, failed verification) is sticky — every later call returns the same
// IoError, whose message has wolfSSL's reason and the alert received, if any. The alert
// wolfSSL sends about it is left in take_ciphertext(); send it, then close the socket.
// Limits: at most kMaxInputBytes of ciphertext wait unread; feed_ciphertext() refuses more
// (ResourceExhausted: the caller should close). read_plaintext() drains the queue fully.
// Memory: wolfSSL's per-session state (tens of KiB, see tls/README.md) plus the queues,
// which release their storage when they empty out.
// Thread-safety: one per connection, used from one thread (its shard). Sessions of one
// TlsContext may live on different threads.
// Untrusted input: yes — every byte given to feed_ciphertext() comes from the peer and is
// parsed by wolfSSL.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/base/status.h"
#include "tls/memory_io.h"
#include "tls/tls_context.h"

struct WOLFSSL;

namespace rm {

class TlsSession {
 public:
  // A TLS record is at most 2^14 bytes of plaintext plus 2048 of expansion (TLS 1.2) and a
  // 5-byte header.
  static constexpr size_t kMaxRecordBytes = 16384 + 2048 + 5;
  static constexpr size_t kMaxInputBytes = 64 * 1024 + kMaxRecordBytes;

  // A server or a client session, as the context is. If wolfSSL cannot make the session
  // (out of memory) every call returns the error. Not movable: wolfSSL keeps a pointer to
  // the session's queues, so hold it by unique_ptr or as a member.
  explicit TlsSession(std::shared_ptr<TlsContext> context);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Client only, before the handshake: the server name to send (SNI) and, when the context
  // verifies peers, the name the server's certificate must carry.
  Status set_sni(const std::string& hostname);

  // Queues ciphertext received from the peer. ResourceExhausted beyond kMaxInputBytes
  // unread (nothing is queued then).
  Status feed_ciphertext(std::string_view bytes);

  // Advances the handshake as far as the queued input allows (a client's first call makes
  // its ClientHello). OK while it is in progress or done; read_plaintext() calls it too.
  Status handshake_step();

  // Drives the handshake, then decrypts every complete record queued, appending the
  // plaintext to `out`. Returns the number of bytes appended (0 when more input is needed).
  // A close_notify from the peer sets peer_closed() and ends reading; bytes after it are
  // dropped.
  Result<size_t> read_plaintext(std::string& out);

  // Encrypts `bytes` into the output (queued until the handshake is done). Unavailable
  // after close().
  Status write_plaintext(std::string_view bytes);

  // Moves out every byte of ciphertext produced so far, to be sent in order.
  std::string take_ciphertext();
  size_t ciphertext_bytes() const { return io_.out.size(); }

  // Sends close_notify (into the output). Plaintext still queued for the handshake is
  // dropped; writes fail afterwards. Reading can go on (to see the peer's close_notify).
  void close();

  bool handshake_done() const { return handshake_done_; }
  bool peer_closed() const { return peer_closed_; }
  bool closed() const { return closed_; }
  // OK, or the sticky error that ended the session.
  const Status& status() const { return status_; }
  // Ciphertext queued and not yet read by wolfSSL.
  size_t input_bytes() const { return io_.in_available(); }

  // After the handshake: "TLSv1.3" / "TLSv1.2", and the cipher suite (wolfSSL's name, e.g.
  // "TLS13-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"). Empty before it.
  std::string_view protocol_version() const;
  std::string_view cipher() const;
  bool is_server() const { return server_; }

 private:
  Status fail(int ret, std::string_view operation);
  Status write_now(std::string_view bytes);
  void release_idle_input();

  std::shared_ptr<TlsContext> context_;
  WOLFSSL* ssl_ = nullptr;
  tls_internal::MemoryIo io_;
  std::string pending_;  // plaintext written before the handshake completed
  Status status_;
  bool server_;
  bool started_ = false;  // handshake_step() has run
  bool handshake_done_ = false;
  bool peer_closed_ = false;
  bool closed_ = false;
};

}  // namespace rm
