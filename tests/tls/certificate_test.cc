// Tests of ensure_self_signed() and of loading certificates into a TlsContext.
#include "tls/certificate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/tls/tls_test_util.h"
#include "tls/tls_context.h"
#include "tls/tls_session.h"

namespace rm::tls_test {
namespace {

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st;
}

// A client that verifies the server against `ca_file` and `name`; returns the handshake
// outcome.
Status verified_handshake(const std::shared_ptr<TlsContext>& server_ctx, const std::string& ca_file,
                          const std::string& name) {
  Result<std::shared_ptr<TlsContext>> client_ctx = TlsContext::create_client(true, ca_file);
  if (!client_ctx.ok()) {
    return client_ctx.status();
  }
  TlsSession client(*client_ctx);
  TlsSession server(server_ctx);
  RM_RETURN_IF_ERROR(client.set_sni(name));
  std::string cp, sp;
  return handshake(client, server, cp, sp);
}

TEST(CertificateTest, CreatesAPairThatWolfsslLoads) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  Status st = ensure_self_signed(cert, key, "mail.example.test");
  ASSERT_TRUE(st.ok()) << st.to_string();

  std::string cert_pem = read_file(cert), key_pem = read_file(key);
  EXPECT_EQ(cert_pem.rfind("-----BEGIN CERTIFICATE-----", 0), 0u) << cert_pem;
  EXPECT_NE(key_pem.find("PRIVATE KEY-----"), std::string::npos);
  EXPECT_EQ(stat_of(key).st_mode & 0777, 0600u);
  EXPECT_EQ(stat_of(cert).st_mode & 0777, 0644u);
  // No temporary files are left behind.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++entries;
  }
  EXPECT_EQ(entries, 2u);

  Result<std::shared_ptr<TlsContext>> ctx = TlsContext::create_server(cert, key);
  ASSERT_TRUE(ctx.ok()) << ctx.status().to_string();
  EXPECT_EQ((*ctx)->role(), TlsContext::Role::kServer);
}

TEST(CertificateTest, SecondCallLeavesThePairUnchanged) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  ASSERT_TRUE(ensure_self_signed(cert, key, "mail.example.test").ok());
  std::string cert_pem = read_file(cert), key_pem = read_file(key);
  struct stat cert_st = stat_of(cert), key_st = stat_of(key);

  Status st = ensure_self_signed(cert, key, "other.example.test");
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(read_file(cert), cert_pem);
  EXPECT_EQ(read_file(key), key_pem);
  EXPECT_EQ(stat_of(cert).st_ino, cert_st.st_ino);
  EXPECT_EQ(stat_of(key).st_ino, key_st.st_ino);
  EXPECT_EQ(stat_of(cert).st_mtim.tv_nsec, cert_st.st_mtim.tv_nsec);
}

TEST(CertificateTest, EachPairIsDifferent) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ASSERT_TRUE(ensure_self_signed(dir.file("a.crt"), dir.file("a.key"), "mail.example.test").ok());
  ASSERT_TRUE(ensure_self_signed(dir.file("b.crt"), dir.file("b.key"), "mail.example.test").ok());
  EXPECT_NE(read_file(dir.file("a.crt")), read_file(dir.file("b.crt")));
  EXPECT_NE(read_file(dir.file("a.key")), read_file(dir.file("b.key")));
}

TEST(CertificateTest, RefusesToOverwriteHalfAPair) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  { std::ofstream(cert) << "operator's certificate\n"; }
  Status st = ensure_self_signed(cert, key, "mail.example.test");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.to_string();
  EXPECT_EQ(read_file(cert), "operator's certificate\n");
  EXPECT_FALSE(std::filesystem::exists(key));

  std::filesystem::remove(cert);
  { std::ofstream(key) << "operator's key\n"; }
  st = ensure_self_signed(cert, key, "mail.example.test");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists) << st.to_string();
  EXPECT_EQ(read_file(key), "operator's key\n");
}

TEST(CertificateTest, RejectsBadHostnamesAndPaths) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  for (const char* host : {"", ".", "a..b", "bad host", "x.example.", "-\n", "evil/../x"}) {
    Status st = ensure_self_signed(dir.file("c.pem"), dir.file("k.pem"), host);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << "'" << host << "': " << st.to_string();
  }
  EXPECT_EQ(ensure_self_signed(dir.file("same.pem"), dir.file("same.pem"), "a.example").code(),
            StatusCode::kInvalidArgument);
  Status st = ensure_self_signed(dir.file("missing/c.pem"), dir.file("missing/k.pem"), "a.example");
  EXPECT_EQ(st.code(), StatusCode::kIoError) << st.to_string();
}

TEST(CertificateTest, VerifiesAgainstItselfByName) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  ServerFixture server = make_server(dir, "mail.example.test");
  ASSERT_TRUE(server.context);

  Status st = verified_handshake(server.context, server.cert, "mail.example.test");
  EXPECT_TRUE(st.ok()) << st.to_string();
  // The name is checked (subjectAltName / CN).
  st = verified_handshake(server.context, server.cert, "other.example.test");
  EXPECT_FALSE(st.ok());
  // An unrelated trust anchor does not verify it.
  ServerFixture other = make_server(dir, "mail.example.test", "other");
  st = verified_handshake(server.context, other.cert, "mail.example.test");
  EXPECT_FALSE(st.ok());
}

TEST(CertificateTest, Rsa2048OnRequest) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string cert = dir.file("rsa.crt"), key = dir.file("rsa.key");
  Status st = ensure_self_signed(cert, key, "mail.example.test", SelfSignedKeyType::kRsa2048);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_NE(read_file(key).find("BEGIN RSA PRIVATE KEY"), std::string::npos);
  Result<std::shared_ptr<TlsContext>> server_ctx = TlsContext::create_server(cert, key);
  ASSERT_TRUE(server_ctx.ok()) << server_ctx.status().to_string();

  for (TlsVersion max : {TlsVersion::kTls12, TlsVersion::kTls13}) {
    TlsSession client(make_client(TlsVersion::kTls12, max));
    TlsSession server(*server_ctx);
    std::string cp, sp;
    st = handshake(client, server, cp, sp);
    ASSERT_TRUE(st.ok()) << st.to_string();
    if (max == TlsVersion::kTls12) {
      EXPECT_EQ(server.cipher(), "ECDHE-RSA-AES128-GCM-SHA256");
    } else {
      EXPECT_EQ(server.protocol_version(), "TLSv1.3");
    }
  }
  st = verified_handshake(*server_ctx, cert, "mail.example.test");
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST(CertificateTest, LongHostnameIsCarriedInSubjectAltName) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  std::string host = std::string(60, 'a') + "." + std::string(40, 'b') + ".example.test";
  ServerFixture server = make_server(dir, host);
  ASSERT_TRUE(server.context);
  Status st = verified_handshake(server.context, server.cert, host);
  EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST(TlsContextTest, MissingAndMismatchedFiles) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  Result<std::shared_ptr<TlsContext>> ctx =
      TlsContext::create_server(dir.file("nope.crt"), dir.file("nope.key"));
  EXPECT_EQ(ctx.status().code(), StatusCode::kNotFound) << ctx.status().to_string();

  ServerFixture a = make_server(dir, "a.example.test", "a");
  ServerFixture b = make_server(dir, "b.example.test", "b");
  ctx = TlsContext::create_server(a.cert, b.key);
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument) << ctx.status().to_string();

  { std::ofstream(dir.file("junk.pem")) << "-----BEGIN CERTIFICATE-----\nnot base64\n"; }
  ctx = TlsContext::create_server(dir.file("junk.pem"), a.key);
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument) << ctx.status().to_string();

  ctx = TlsContext::create_client(true, dir.file("nope.pem"));
  EXPECT_EQ(ctx.status().code(), StatusCode::kNotFound) << ctx.status().to_string();
  ctx = TlsContext::create_client(false, "", TlsVersion::kTls13, TlsVersion::kTls12);
  EXPECT_EQ(ctx.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rm::tls_test
