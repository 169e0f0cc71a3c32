// TlsContext: the shared TLS configuration a TlsSession is made from — one per server
// (certificate + key) and one per outbound-client policy. Wraps a WOLFSSL_CTX.
//
// Server contexts speak TLS 1.2 and 1.3 only, with ECDHE + AEAD cipher suites (AES-GCM,
// ChaCha20-Poly1305). Client contexts default to the same; a wider version range can be
// asked for (e.g. TLS 1.1 for opportunistic STARTTLS to old servers, or to test refusal).
// Every context installs memory I/O callbacks (see TlsSession): wolfSSL never touches a
// socket.
// Thread-safety: immutable once built; share it (shared_ptr) between shards and make
// sessions from any thread. wolfSSL's context reference count and session cache are
// internally locked.
// Untrusted input: none from peers here; certificate and key files come from configuration
// and are parsed by wolfSSL.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/base/status.h"

struct WOLFSSL_CTX;

namespace rm {

enum class TlsVersion : uint8_t { kTls11, kTls12, kTls13 };

class TlsContext {
 public:
  enum class Role : uint8_t { kServer, kClient };

  // Loads a PEM certificate chain (leaf first) and its PEM private key and checks that they
  // match (with one in-memory handshake: wolfSSL's own check misses ECC mismatches).
  // NotFound when a file is missing, InvalidArgument when wolfSSL rejects one or the key
  // does not sign for the certificate.
  static Result<std::shared_ptr<TlsContext>> create_server(const std::string& cert_pem_path,
                                                           const std::string& key_pem_path);

  // verify_peer: check the server's chain against `ca_file` (PEM; empty = the system CA
  // store), and its name against TlsSession::set_sni(). Without it any certificate is
  // accepted (opportunistic TLS, tests).
  static Result<std::shared_ptr<TlsContext>> create_client(
      bool verify_peer, const std::string& ca_file, TlsVersion min_version = TlsVersion::kTls12,
      TlsVersion max_version = TlsVersion::kTls13);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  Role role() const { return role_; }
  bool verify_peer() const { return verify_peer_; }
  // For TlsSession (wolfSSL_new); not for configuring the context further.
  WOLFSSL_CTX* native() const { return ctx_; }

 private:
  TlsContext(WOLFSSL_CTX* ctx, Role role, bool verify_peer)
      : ctx_(ctx), role_(role), verify_peer_(verify_peer) {}

  WOLFSSL_CTX* const ctx_;
  const Role role_;
  const bool verify_peer_;
};

}  // namespace rm
