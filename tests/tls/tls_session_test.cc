// Tests of TlsSession driven in memory: a client and a server session shuttle their
// ciphertext to each other (tests/tls/tls_test_util.h).
#include "tls/tls_session.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/tls/tls_test_util.h"

namespace rm::tls_test {
namespace {

class TlsSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    server_ = make_server(dir_);
    ASSERT_TRUE(server_.context);
  }

  TempDir dir_;
  ServerFixture server_;
};

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

TEST_F(TlsSessionTest, HandshakeTls13) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  EXPECT_FALSE(client.is_server());
  EXPECT_TRUE(server.is_server());
  EXPECT_EQ(server.protocol_version(), "");
  EXPECT_EQ(server.cipher(), "");
  ASSERT_TRUE(client.set_sni("mail.example.test").ok());
  EXPECT_FALSE(server.set_sni("x.example").ok());

  std::string cp, sp;
  Status st = handshake(client, server, cp, sp);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(server.protocol_version(), "TLSv1.3");
  EXPECT_EQ(client.protocol_version(), "TLSv1.3");
  EXPECT_EQ(server.cipher(), client.cipher());
  EXPECT_EQ(server.cipher().substr(0, 6), "TLS13-") << server.cipher();
  EXPECT_TRUE(cp.empty());
  EXPECT_TRUE(sp.empty());
  EXPECT_EQ(server.input_bytes(), 0u);
  EXPECT_FALSE(client.set_sni("late.example").ok());
}

TEST_F(TlsSessionTest, HandshakeWithClientForcedToTls12) {
  TlsSession client(make_client(TlsVersion::kTls12, TlsVersion::kTls12));
  TlsSession server(server_.context);
  std::string cp, sp;
  Status st = handshake(client, server, cp, sp);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(server.protocol_version(), "TLSv1.2");
  EXPECT_EQ(client.protocol_version(), "TLSv1.2");
  EXPECT_EQ(server.cipher(), "ECDHE-ECDSA-AES128-GCM-SHA256");

  ASSERT_TRUE(client.write_plaintext("EHLO client.example\r\n").ok());
  ASSERT_TRUE(pump(client, server, cp, sp).ok());
  EXPECT_EQ(sp, "EHLO client.example\r\n");
}

TEST_F(TlsSessionTest, HandshakeFedOneByteAtATime) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  std::string cp, sp;
  ASSERT_TRUE(client.handshake_step().ok());
  ASSERT_TRUE(pump(client, server, cp, sp, /*piece=*/1).ok());
  EXPECT_TRUE(client.handshake_done());
  EXPECT_TRUE(server.handshake_done());
  ASSERT_TRUE(server.write_plaintext("220 ready\r\n").ok());
  ASSERT_TRUE(pump(client, server, cp, sp, 1).ok());
  EXPECT_EQ(cp, "220 ready\r\n");
}

TEST_F(TlsSessionTest, ApplicationDataBothWays) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  std::string cp, sp;
  ASSERT_TRUE(handshake(client, server, cp, sp).ok());

  ASSERT_TRUE(server.write_plaintext("220 mail.example.test ESMTP\r\n").ok());
  ASSERT_TRUE(pump(client, server, cp, sp).ok());
  EXPECT_EQ(cp, "220 mail.example.test ESMTP\r\n");
  ASSERT_TRUE(client.write_plaintext("EHLO a\r\n").ok());
  ASSERT_TRUE(client.write_plaintext("").ok());
  ASSERT_TRUE(client.write_plaintext("MAIL FROM:<a@b>\r\n").ok());
  ASSERT_TRUE(pump(client, server, cp, sp).ok());
  EXPECT_EQ(sp, "EHLO a\r\nMAIL FROM:<a@b>\r\n");
}

TEST_F(TlsSessionTest, OneMebibyteInRandomPiecesArrivesIntact) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  std::string cp, sp;
  ASSERT_TRUE(handshake(client, server, cp, sp).ok());

  std::mt19937_64 rng(12345);
  const std::string up = random_bytes(rng, 1 << 20);
  const std::string down = random_bytes(rng, 1 << 20);
  size_t up_pos = 0, down_pos = 0;
  while (up_pos < up.size() || down_pos < down.size()) {
    size_t n = 1 + rng() % 70000;
    if (up_pos < up.size()) {
      n = std::min(n, up.size() - up_pos);
      ASSERT_TRUE(client.write_plaintext(std::string_view(up).substr(up_pos, n)).ok());
      up_pos += n;
    }
    n = 1 + rng() % 70000;
    if (down_pos < down.size()) {
      n = std::min(n, down.size() - down_pos);
      ASSERT_TRUE(server.write_plaintext(std::string_view(down).substr(down_pos, n)).ok());
      down_pos += n;
    }
    // Ciphertext travels in random-sized pieces too.
    size_t piece = 1 + rng() % 40000;
    Status st = pump(client, server, cp, sp, piece);
    ASSERT_TRUE(st.ok()) << st.to_string();
  }
  EXPECT_EQ(sp.size(), up.size());
  EXPECT_TRUE(sp == up);
  EXPECT_EQ(cp.size(), down.size());
  EXPECT_TRUE(cp == down);
}

TEST_F(TlsSessionTest, WritesBeforeTheHandshakeAreQueued) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  ASSERT_TRUE(server.write_plaintext("220 hello\r\n").ok());
  ASSERT_TRUE(client.write_plaintext("EHLO early\r\n").ok());
  EXPECT_EQ(server.ciphertext_bytes(), 0u);  // nothing leaks out in the clear
  std::string cp, sp;
  ASSERT_TRUE(handshake(client, server, cp, sp).ok());
  ASSERT_TRUE(pump(client, server, cp, sp).ok());
  EXPECT_EQ(cp, "220 hello\r\n");
  EXPECT_EQ(sp, "EHLO early\r\n");
}

TEST_F(TlsSessionTest, CloseNotifyIsSeenAsPeerClosed) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  std::string cp, sp;
  ASSERT_TRUE(handshake(client, server, cp, sp).ok());

  ASSERT_TRUE(client.write_plaintext("QUIT\r\n").ok());
  client.close();
  EXPECT_TRUE(client.closed());
  EXPECT_EQ(client.write_plaintext("more").code(), StatusCode::kUnavailable);
  ASSERT_TRUE(deliver(client, server, sp).ok());
  EXPECT_EQ(sp, "QUIT\r\n");
  EXPECT_TRUE(server.peer_closed());
  EXPECT_TRUE(server.status().ok());

  // The server may still answer, then closes in turn.
  ASSERT_TRUE(server.write_plaintext("221 bye\r\n").ok());
  server.close();
  ASSERT_TRUE(deliver(server, client, cp).ok());
  EXPECT_EQ(cp, "221 bye\r\n");
  EXPECT_TRUE(client.peer_closed());
  EXPECT_TRUE(client.status().ok());
  // Reading after the close is harmless.
  Result<size_t> n = server.read_plaintext(sp);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TEST_F(TlsSessionTest, Tls11ClientIsRefused) {
  std::shared_ptr<TlsContext> ctx = make_client(TlsVersion::kTls11, TlsVersion::kTls11);
  ASSERT_TRUE(ctx);
  TlsSession client(ctx);
  TlsSession server(server_.context);
  ASSERT_TRUE(client.handshake_step().ok());
  std::string cp, sp;
  Status st = deliver(client, server, sp);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kIoError);
  EXPECT_FALSE(server.handshake_done());
  EXPECT_EQ(server.status().message(), st.message());
  std::cerr << "server: " << st.to_string() << "\n";
  // The server's alert tells the client why.
  st = deliver(server, client, cp);
  EXPECT_FALSE(st.ok());
  std::cerr << "client: " << st.to_string() << "\n";
  EXPECT_FALSE(client.handshake_done());
  // Sticky.
  EXPECT_FALSE(server.read_plaintext(sp).ok());
  EXPECT_FALSE(server.write_plaintext("x").ok());
  EXPECT_FALSE(server.feed_ciphertext("x").ok());
}

TEST_F(TlsSessionTest, PlaintextSmtpToATlsPortIsAnError) {
  TlsSession server(server_.context);
  ASSERT_TRUE(server.feed_ciphertext("EHLO client.example\r\n").ok());
  std::string sp;
  Result<size_t> n = server.read_plaintext(sp);
  ASSERT_FALSE(n.ok());
  std::cerr << n.status().to_string() << "\n";
  EXPECT_TRUE(sp.empty());
}

TEST_F(TlsSessionTest, GarbageIsAnErrorNotACrash) {
  std::mt19937_64 rng(777);
  // A real ClientHello to mutate.
  TlsSession hello_client(make_client());
  ASSERT_TRUE(hello_client.handshake_step().ok());
  const std::string hello = hello_client.take_ciphertext();
  ASSERT_GT(hello.size(), 100u);
  ASSERT_EQ(hello[0], 0x16);  // handshake record

  int errors = 0;
  for (int i = 0; i < 300; ++i) {
    std::string input;
    switch (i % 4) {
      case 0:
        input = random_bytes(rng, 1 + rng() % 3000);
        break;
      case 1: {  // a record header claiming a huge length
        input = std::string("\x16\x03\x03\xff\xff", 5) + random_bytes(rng, rng() % 100);
        break;
      }
      case 2: {  // a ClientHello with flipped bytes
        input = hello;
        for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k) {
          input[5 + rng() % (input.size() - 5)] ^= static_cast<char>(1 + rng() % 255);
        }
        break;
      }
      default: {  // a ClientHello truncated and followed by garbage
        input = hello.substr(0, rng() % hello.size()) + random_bytes(rng, 1 + rng() % 500);
        break;
      }
    }
    TlsSession server(server_.context);
    std::string sp;
    bool failed = false;
    for (size_t pos = 0; pos < input.size() && !failed; pos += 1 + rng() % 600) {
      size_t n = std::min(input.size() - pos, size_t{1} + rng() % 600);
      if (!server.feed_ciphertext(std::string_view(input).substr(pos, n)).ok()) {
        failed = true;
        break;
      }
      failed = !server.read_plaintext(sp).ok();
    }
    (void)server.take_ciphertext();
    errors += failed ? 1 : 0;
    EXPECT_TRUE(sp.empty());
    EXPECT_FALSE(server.handshake_done());
  }
  // Random data is refused at once; some mutations merely leave the server waiting.
  EXPECT_GT(errors, 150);
}

TEST_F(TlsSessionTest, CorruptedRecordAfterTheHandshakeIsAnError) {
  TlsSession client(make_client());
  TlsSession server(server_.context);
  std::string cp, sp;
  ASSERT_TRUE(handshake(client, server, cp, sp).ok());
  ASSERT_TRUE(client.write_plaintext("DATA\r\n").ok());
  std::string wire = client.take_ciphertext();
  wire[wire.size() - 3] ^= 0x40;  // inside the AEAD tag
  ASSERT_TRUE(server.feed_ciphertext(wire).ok());
  Result<size_t> n = server.read_plaintext(sp);
  ASSERT_FALSE(n.ok());
  std::cerr << n.status().to_string() << "\n";
  EXPECT_TRUE(sp.empty());
  EXPECT_GT(server.ciphertext_bytes(), 0u);  // the alert, to be sent before closing
}

TEST_F(TlsSessionTest, InputIsBounded) {
  TlsSession server(server_.context);
  std::string chunk(TlsSession::kMaxInputBytes, 'x');
  ASSERT_TRUE(server.feed_ciphertext(chunk).ok());
  EXPECT_EQ(server.input_bytes(), TlsSession::kMaxInputBytes);
  Status st = server.feed_ciphertext("y");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.to_string();
  EXPECT_EQ(server.input_bytes(), TlsSession::kMaxInputBytes);
}

TEST_F(TlsSessionTest, UnverifiedClientAcceptsAnyServer) {
  // The default test client (verify off) ignores a name mismatch.
  TlsSession client(make_client());
  ASSERT_TRUE(client.set_sni("not-the-server.example").ok());
  TlsSession server(server_.context);
  std::string cp, sp;
  EXPECT_TRUE(handshake(client, server, cp, sp).ok());
}

TEST(TlsSessionNoContextTest, EveryCallFails) {
  TlsSession session(nullptr);
  std::string out;
  EXPECT_FALSE(session.status().ok());
  EXPECT_FALSE(session.feed_ciphertext("x").ok());
  EXPECT_FALSE(session.read_plaintext(out).ok());
  EXPECT_FALSE(session.write_plaintext("x").ok());
  EXPECT_FALSE(session.handshake_step().ok());
  session.close();
  EXPECT_TRUE(session.take_ciphertext().empty());
}

}  // namespace
}  // namespace rm::tls_test
