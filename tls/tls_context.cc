// See tls_context.h.
#include "tls/tls_context.h"

// <wolfssl/options.h> comes before every other wolfSSL header (sorted order keeps it so): it
// fixes the configuration, and so the struct layouts, of the installed library.
#include <sys/stat.h>
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <cerrno>

#include "tls/memory_io.h"
#include "tls/tls_session.h"
#include "tls/wolfssl_support.h"

namespace rm {
namespace {

// ECDHE key exchange and AEAD ciphers only: TLS 1.3 suites first, then TLS 1.2 ones (ECDSA
// and RSA certificates both work). wolfSSL spelling; it also accepts OpenSSL's names.
constexpr const char* kCipherList =
    "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Clients that allow TLS 1.1 also offer ECDHE with AES-CBC (TLS 1.1 has no AEAD suites).
constexpr const char* kLegacyClientCipherList =
    "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";

struct CtxDeleter {
  void operator()(WOLFSSL_CTX* ctx) const { wolfSSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<WOLFSSL_CTX, CtxDeleter>;

int min_version_constant(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls11:
      return WOLFSSL_TLSV1_1;
    case TlsVersion::kTls12:
      return WOLFSSL_TLSV1_2;
    case TlsVersion::kTls13:
      return WOLFSSL_TLSV1_3;
  }
  return WOLFSSL_TLSV1_2;
}

int proto_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_3_VERSION;
}

Status check_readable(const std::string& path, std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT) {
      return Status::NotFound("tls: " + std::string(what) + " file not found: " + path);
    }
    return Status::FromErrno("tls: " + std::string(what) + " file " + path, err);
  }
  return Status::Ok();
}

Status wolf_failure(std::string what, int rc) {
  return Status::InvalidArgument("tls: " + what + ": " + tls_internal::wolfssl_error_string(rc));
}

// What every context gets: memory I/O, the version floor, the cipher list.
Status configure_common(WOLFSSL_CTX* ctx, TlsVersion min_version, const char* ciphers) {
  wolfSSL_CTX_SetIORecv(ctx, tls_internal::memory_io_recv);
  wolfSSL_CTX_SetIOSend(ctx, tls_internal::memory_io_send);
  int rc = wolfSSL_CTX_SetMinVersion(ctx, min_version_constant(min_version));
  if (rc != WOLFSSL_SUCCESS) {
    return wolf_failure("setting the minimum protocol version", rc);
  }
  rc = wolfSSL_CTX_set_cipher_list(ctx, ciphers);
  if (rc != WOLFSSL_SUCCESS) {
    return wolf_failure("setting the cipher list", rc);
  }
  // X25519 first: it is what most clients offer, it is fast, and unlike P-256 in this
  // wolfSSL build it does not grow the per-thread ECC fixed-point cache (thread_caches.h).
  int groups[] = {WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1, WOLFSSL_ECC_SECP384R1};
  rc = wolfSSL_CTX_set_groups(ctx, groups, static_cast<int>(sizeof groups / sizeof groups[0]));
  if (rc != WOLFSSL_SUCCESS) {
    return wolf_failure("setting the key exchange groups", rc);
  }
  return Status::Ok();
}

// Moves `from`'s output into `to` (within the input limit) and advances `to`'s handshake.
Status deliver_flight(TlsSession& from, TlsSession& to) {
  std::string flight = from.take_ciphertext();
  std::string_view rest(flight);
  while (!rest.empty()) {
    std::string_view piece = rest.substr(0, TlsSession::kMaxInputBytes);
    rest.remove_prefix(piece.size());
    RM_RETURN_IF_ERROR(to.feed_ciphertext(piece));
    RM_RETURN_IF_ERROR(to.handshake_step());
  }
  return Status::Ok();
}

// wolfSSL_CTX_check_private_key does not compare an ECC key with the certificate's public
// key (wolfSSL 5.5), so the pair is proven the way peers will check it: one in-memory TLS
// 1.3 handshake against the new context, whose CertificateVerify is signed with the key and
// checked against the certificate. Costs a few milliseconds, once per context.
Status probe_key_pair(const std::shared_ptr<TlsContext>& server_ctx) {
  Result<std::shared_ptr<TlsContext>> client_ctx =
      TlsContext::create_client(false, "", TlsVersion::kTls13, TlsVersion::kTls13);
  if (!client_ctx.ok()) {
    return client_ctx.status();
  }
  TlsSession client(*client_ctx);
  TlsSession server(server_ctx);
  RM_RETURN_IF_ERROR(client.handshake_step());
  for (int flight = 0; flight < 8 && !(client.handshake_done() && server.handshake_done());
       ++flight) {
    RM_RETURN_IF_ERROR(deliver_flight(client, server));
    RM_RETURN_IF_ERROR(deliver_flight(server, client));
  }
  if (!client.handshake_done() || !server.handshake_done()) {
    return Status::Internal("tls: the self-test handshake did not complete");
  }
  return Status::Ok();
}

}  // namespace

TlsContext::~TlsContext() {
  wolfSSL_CTX_free(ctx_);
}

Result<std::shared_ptr<TlsContext>> TlsContext::create_server(const std::string& cert_pem_path,
                                                              const std::string& key_pem_path) {
  RM_RETURN_IF_ERROR(tls_internal::ensure_wolfssl_initialized());
  RM_RETURN_IF_ERROR(check_readable(cert_pem_path, "certificate"));
  RM_RETURN_IF_ERROR(check_readable(key_pem_path, "private key"));

  CtxPtr ctx(wolfSSL_CTX_new(wolfSSLv23_server_method()));
  if (!ctx) {
    return Status::Internal("tls: wolfSSL_CTX_new failed");
  }
  RM_RETURN_IF_ERROR(configure_common(ctx.get(), TlsVersion::kTls12, kCipherList));
  wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);  // no client certificates

  int rc = wolfSSL_CTX_use_certificate_chain_file(ctx.get(), cert_pem_path.c_str());
  if (rc != WOLFSSL_SUCCESS) {
    return wolf_failure("loading the certificate chain " + cert_pem_path, rc);
  }
  rc = wolfSSL_CTX_use_PrivateKey_file(ctx.get(), key_pem_path.c_str(), WOLFSSL_FILETYPE_PEM);
  if (rc != WOLFSSL_SUCCESS) {
    return wolf_failure("loading the private key " + key_pem_path, rc);
  }
  rc = wolfSSL_CTX_check_private_key(ctx.get());
  if (rc != WOLFSSL_SUCCESS) {
    return Status::InvalidArgument("tls: the private key " + key_pem_path +
                                   " does not match the certificate " + cert_pem_path);
  }
  std::shared_ptr<TlsContext> context(new TlsContext(ctx.release(), Role::kServer, false));
  Status probe = probe_key_pair(context);
  if (!probe.ok()) {
    return Status::InvalidArgument("tls: the private key " + key_pem_path +
                                   " does not work with the certificate " + cert_pem_path + " (" +
                                   std::string(probe.message()) + ")");
  }
  return context;
}

Result<std::shared_ptr<TlsContext>> TlsContext::create_client(bool verify_peer,
                                                              const std::string& ca_file,
                                                              TlsVersion min_version,
                                                              TlsVersion max_version) {
  RM_RETURN_IF_ERROR(tls_internal::ensure_wolfssl_initialized());
  if (min_version > max_version) {
    return Status::InvalidArgument("tls: minimum protocol version above the maximum");
  }
  CtxPtr ctx(wolfSSL_CTX_new(wolfSSLv23_client_method()));
  if (!ctx) {
    return Status::Internal("tls: wolfSSL_CTX_new failed");
  }
  const char* ciphers = min_version < TlsVersion::kTls12 ? kLegacyClientCipherList : kCipherList;
  RM_RETURN_IF_ERROR(configure_common(ctx.get(), min_version, ciphers));
  if (max_version != TlsVersion::kTls13) {
    int rc = wolfSSL_CTX_set_max_proto_version(ctx.get(), proto_version(max_version));
    if (rc != WOLFSSL_SUCCESS) {
      return wolf_failure("setting the maximum protocol version", rc);
    }
  }

  if (verify_peer) {
    int rc;
    if (ca_file.empty()) {
      rc = wolfSSL_CTX_load_system_CA_certs(ctx.get());
      if (rc != WOLFSSL_SUCCESS) {
        return wolf_failure("loading the system CA certificates", rc);
      }
    } else {
      RM_RETURN_IF_ERROR(check_readable(ca_file, "CA"));
      rc = wolfSSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr);
      if (rc != WOLFSSL_SUCCESS) {
        return wolf_failure("loading the CA file " + ca_file, rc);
      }
    }
    wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_PEER, nullptr);
  } else {
    wolfSSL_CTX_set_verify(ctx.get(), WOLFSSL_VERIFY_NONE, nullptr);
  }
  return std::shared_ptr<TlsContext>(new TlsContext(ctx.release(), Role::kClient, verify_peer));
}

}  // namespace rm
