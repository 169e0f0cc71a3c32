// Helpers for the TLS tests: a temporary directory with a self-signed pair, contexts made
// from it, and an in-memory "wire" that shuttles ciphertext between two TlsSessions.
// Thread-safety: test code; each helper is used from one thread.
// Untrusted input: the tests feed sessions garbage on purpose; the helpers only move bytes.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tls/certificate.h"
#include "tls/tls_context.h"
#include "tls/tls_session.h"

namespace rm::tls_test {

class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string tmpl =
        std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") + "/rm_tls_test.XXXXXX";
    if (mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
    }
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A self-signed pair for `hostname` in `dir`, and a server context made from it.
struct ServerFixture {
  std::string cert;
  std::string key;
  std::shared_ptr<TlsContext> context;
};

inline ServerFixture make_server(const TempDir& dir,
                                 const std::string& hostname = "mail.example.test",
                                 const std::string& prefix = "server") {
  ServerFixture f;
  f.cert = dir.file(prefix + ".crt");
  f.key = dir.file(prefix + ".key");
  Status st = ensure_self_signed(f.cert, f.key, hostname);
  EXPECT_TRUE(st.ok()) << st.to_string();
  Result<std::shared_ptr<TlsContext>> ctx = TlsContext::create_server(f.cert, f.key);
  EXPECT_TRUE(ctx.ok()) << ctx.status().to_string();
  if (ctx.ok()) {
    f.context = *ctx;
  }
  return f;
}

inline std::shared_ptr<TlsContext> make_client(TlsVersion min = TlsVersion::kTls12,
                                               TlsVersion max = TlsVersion::kTls13) {
  Result<std::shared_ptr<TlsContext>> ctx = TlsContext::create_client(false, "", min, max);
  EXPECT_TRUE(ctx.ok()) << ctx.status().to_string();
  return ctx.ok() ? *ctx : nullptr;
}

// Moves `from`'s ciphertext into `to` in pieces of at most `piece` bytes, reading after
// each piece (as a connection would), and appends the plaintext to `to_plain`.
inline Status deliver(TlsSession& from, TlsSession& to, std::string& to_plain,
                      size_t piece = 32768) {
  std::string wire = from.take_ciphertext();
  for (size_t pos = 0; pos < wire.size(); pos += piece) {
    RM_RETURN_IF_ERROR(to.feed_ciphertext(std::string_view(wire).substr(pos, piece)));
    Result<size_t> n = to.read_plaintext(to_plain);
    if (!n.ok()) {
      return n.status();
    }
  }
  return Status::Ok();
}

// Shuttles ciphertext both ways until neither side has anything more to send.
inline Status pump(TlsSession& a, TlsSession& b, std::string& a_plain, std::string& b_plain,
                   size_t piece = 32768) {
  for (int round = 0; round < 1000; ++round) {
    if (a.ciphertext_bytes() == 0 && b.ciphertext_bytes() == 0) {
      return Status::Ok();
    }
    RM_RETURN_IF_ERROR(deliver(a, b, b_plain, piece));
    RM_RETURN_IF_ERROR(deliver(b, a, a_plain, piece));
  }
  return Status::Internal("pump: no quiescence after 1000 rounds");
}

// Client starts, both sides exchange flights until the handshake is done on both.
inline Status handshake(TlsSession& client, TlsSession& server, std::string& client_plain,
                        std::string& server_plain) {
  RM_RETURN_IF_ERROR(client.handshake_step());
  RM_RETURN_IF_ERROR(pump(client, server, client_plain, server_plain));
  if (!client.handshake_done() || !server.handshake_done()) {
    return Status::Internal("handshake did not complete");
  }
  return Status::Ok();
}

}  // namespace rm::tls_test
