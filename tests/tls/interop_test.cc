// Interoperability over a real socket: a blocking loopback server thread drives a server
// TlsSession (socket → feed_ciphertext, take_ciphertext → socket) and echoes one line; the
// client is OpenSSL (`openssl s_client`) or Python's ssl module (OpenSSL underneath).
// Tests skip when the tool is missing.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "tests/tls/tls_test_util.h"
#include "tls/thread_caches.h"

namespace rm::tls_test {
namespace {

constexpr int kIoTimeoutMs = 20000;

struct EchoOutcome {
  Status status;
  std::string line;     // the line received (and echoed)
  std::string version;  // negotiated protocol
  std::string cipher;
  bool peer_closed = false;
};

bool send_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

// Serves one connection on `listen_fd`: echoes the first line, then sends close_notify and
// waits for the client to go away.
EchoOutcome serve_one_echo(int listen_fd, std::shared_ptr<TlsContext> ctx) {
  EchoOutcome out;
  pollfd lp{listen_fd, POLLIN, 0};
  if (::poll(&lp, 1, kIoTimeoutMs) != 1) {
    out.status = Status::Unavailable("no connection");
    return out;
  }
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    out.status = Status::FromErrno("accept", errno);
    return out;
  }
  TlsSession session(std::move(ctx));
  std::string plain;
  bool echoed = false;
  char buf[16384];
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kIoTimeoutMs) != 1) {
      out.status = Status::Unavailable("timed out waiting for the client");
      break;
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      if (!echoed) {
        out.status = Status::IoError("client went away before sending a line");
      }
      break;
    }
    Status st = session.feed_ciphertext(std::string_view(buf, static_cast<size_t>(n)));
    Result<size_t> r = st.ok() ? session.read_plaintext(plain) : Result<size_t>(st);
    if (!r.ok()) {
      send_all(fd, session.take_ciphertext());
      out.status = r.status();
      break;
    }
    size_t eol = plain.find('\n');
    if (!echoed && eol != std::string::npos) {
      out.line = plain.substr(0, eol + 1);
      out.version = std::string(session.protocol_version());
      out.cipher = std::string(session.cipher());
      echoed = true;
      if (!session.write_plaintext(out.line).ok()) {
        out.status = session.status();
        break;
      }
      session.close();
    }
    if (!send_all(fd, session.take_ciphertext())) {
      break;  // the client closed first: fine once the echo has gone out
    }
    if (session.peer_closed()) {
      break;
    }
  }
  out.peer_closed = session.peer_closed();
  ::close(fd);
  return out;
}

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    server_ = make_server(dir_, "localhost");
    ASSERT_TRUE(server_.context);
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listen_fd_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listen_fd_, 4), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  void TearDown() override {
    if (listen_fd_ >= 0) {
      ::close(listen_fd_);
    }
  }

  // Runs `command` (a shell command line) while the server thread serves one connection;
  // returns the command's stdout.
  std::string run_client(const std::string& command, EchoOutcome& outcome) {
    EchoOutcome result;
    std::thread server([&] {
      result = serve_one_echo(listen_fd_, server_.context);
      release_tls_thread_caches();  // as every thread that ran TLS should before it exits
    });
    std::string output;
    FILE* p = ::popen(command.c_str(), "r");
    if (p != nullptr) {
      char buf[4096];
      size_t n;
      while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
        output.append(buf, n);
      }
      int rc = ::pclose(p);
      EXPECT_TRUE(WIFEXITED(rc)) << command;
    } else {
      ADD_FAILURE() << "popen failed: " << command;
    }
    // If the client never connected, wake the server with an empty connection rather than
    // let it wait for its timeout (otherwise this one just waits in the backlog).
    int poke = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (poke >= 0) {
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(port_);
      (void)::connect(poke, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      ::close(poke);
    }
    server.join();
    outcome = std::move(result);
    return output;
  }

  TempDir dir_;
  ServerFixture server_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
};

TEST_F(InteropTest, OpensslSClientTls13) {
  if (::access("/usr/bin/openssl", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/openssl is not installed";
  }
  EchoOutcome outcome;
  std::string command =
      "printf 'hello over tls 1.3\\n' | timeout 30 /usr/bin/openssl s_client "
      "-connect 127.0.0.1:" +
      std::to_string(port_) + " -tls1_3 -quiet -servername localhost 2>" + dir_.file("stderr.txt");
  std::string output = run_client(command, outcome);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.to_string() << "\n"
                                   << read_file(dir_.file("stderr.txt"));
  EXPECT_EQ(outcome.line, "hello over tls 1.3\n");
  EXPECT_EQ(outcome.version, "TLSv1.3");
  EXPECT_EQ(output, "hello over tls 1.3\n") << read_file(dir_.file("stderr.txt"));
}

TEST_F(InteropTest, OpensslSClientTls12) {
  if (::access("/usr/bin/openssl", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/openssl is not installed";
  }
  EchoOutcome outcome;
  std::string command =
      "printf 'hello over tls 1.2\\n' | timeout 30 /usr/bin/openssl s_client "
      "-connect 127.0.0.1:" +
      std::to_string(port_) + " -tls1_2 -quiet 2>" + dir_.file("stderr.txt");
  std::string output = run_client(command, outcome);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.to_string() << "\n"
                                   << read_file(dir_.file("stderr.txt"));
  EXPECT_EQ(outcome.version, "TLSv1.2");
  EXPECT_EQ(outcome.cipher, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(output, "hello over tls 1.2\n") << read_file(dir_.file("stderr.txt"));
}

TEST_F(InteropTest, OpensslTls11IsRefused) {
  if (::access("/usr/bin/openssl", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/openssl is not installed";
  }
  EchoOutcome outcome;
  // OpenSSL 3 needs security level 0 to offer TLS 1.1 at all.
  std::string command =
      "printf 'old\\n' | timeout 30 /usr/bin/openssl s_client -connect 127.0.0.1:" +
      std::to_string(port_) + " -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -quiet 2>" +
      dir_.file("stderr.txt");
  std::string output = run_client(command, outcome);
  EXPECT_FALSE(outcome.status.ok());
  std::cerr << "server: " << outcome.status.to_string() << "\n";
  // The refusal comes from our version check, not from a client that never connected.
  EXPECT_NE(outcome.status.message().find("version"), std::string_view::npos)
      << outcome.status.to_string() << "\n"
      << read_file(dir_.file("stderr.txt"));
  EXPECT_EQ(outcome.line, "");
  EXPECT_EQ(output, "");
}

TEST_F(InteropTest, PythonSslEcho) {
  if (::access("/usr/bin/python3", X_OK) != 0) {
    GTEST_SKIP() << "/usr/bin/python3 is not installed";
  }
  const std::string script =
      "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context()\n"
      "ctx.check_hostname = False\n"
      "ctx.verify_mode = ssl.CERT_NONE\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=20) as raw:\n"
      "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n"
      "        s.sendall(b'hello from python\\n')\n"
      "        buf = b''\n"
      "        while not buf.endswith(b'\\n'):\n"
      "            d = s.recv(4096)\n"
      "            if not d:\n"
      "                break\n"
      "            buf += d\n"
      "        print(s.version())\n"
      "        sys.stdout.write(buf.decode())\n";
  std::string script_path = dir_.file("client.py");
  { std::ofstream(script_path) << script; }
  EchoOutcome outcome;
  std::string output = run_client("timeout 30 /usr/bin/python3 " + script_path + " " +
                                      std::to_string(port_) + " 2>" + dir_.file("stderr.txt"),
                                  outcome);
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.to_string() << "\n"
                                   << read_file(dir_.file("stderr.txt"));
  EXPECT_EQ(outcome.line, "hello from python\n");
  EXPECT_EQ(output, "TLSv1.3\nhello from python\n") << read_file(dir_.file("stderr.txt"));
}

}  // namespace
}  // namespace rm::tls_test
