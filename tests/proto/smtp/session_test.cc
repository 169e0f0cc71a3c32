// Golden transcripts for the SMTP server session: tests/proto/smtp/transcripts/*.txt hold
// client lines ("C: ", sent with CRLF; "\r", "\n" escapes; a trailing "\c" sends no CRLF)
// and the exact server lines expected ("S: "). Consecutive C lines are sent as one write
// (pipelined). "O: starttls|auth|auth_plaintext" at the top enables an option. "M: ID" checks that message ID was committed; "B: text" that its body
// contains text.
#include "proto/smtp/session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace rm::smtp {
namespace {

class TestEnv : public SessionEnv {
 public:
  Reply check_recipient(const RecipientRequest& r) override {
    const std::string& d = r.mailbox.domain;
    if (d.empty() || d == "localhost" || d == "example.org") {
      if (r.mailbox.local == "alice" || r.mailbox.local == "bob" || r.mailbox.local == "postmaster") {
        return {250, "2.1.5", "Ok"};
      }
      return {550, "5.1.1", "<" + r.mailbox.address() + ">: Recipient address rejected: User unknown"};
    }
    if (r.authenticated) {
      return {250, "2.1.5", "Ok"};
    }
    return {554, "5.7.1", "<" + r.mailbox.address() + ">: Relay access denied"};
  }
  std::string next_queue_id() override { return "Q" + std::to_string(++ids_); }
  std::string rfc5322_now() override { return "Sun, 29 Nov 2026 17:00:00 +0000"; }

 private:
  int ids_ = 0;
};

std::string unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      const char c = text[++i];
      out += c == 'r' ? '\r' : c == 'n' ? '\n' : c == 't' ? '\t' : c;
    } else {
      out += text[i];
    }
  }
  return out;
}

struct Run {
  std::string output;
  std::map<std::string, std::string> committed;  // queue id -> body
  bool closed = false;
};

// Feeds one client write, answering commit requests at once, as the server would after
// its fsync.
void send(ServerSession& session, std::string& pending, Run& run) {
  while (!run.closed) {
    const size_t used = session.feed(pending, run.output);
    pending.erase(0, used);
    if (session.action() == SessionAction::kCommit) {
      run.committed[session.draft().queue_id] = session.body();
      session.commit_finished(nullptr, run.output);
      continue;
    }
    if (session.action() == SessionAction::kAuthenticate) {
      const Credentials& c = session.credentials();
      session.auth_finished(c.user == "alice@example.org" && c.password == "secret", run.output);
      continue;
    }
    if (session.action() == SessionAction::kStartTls) {
      session.tls_started();  // the transport would switch to TLS here
      pending.clear();        // bytes pipelined after STARTTLS are never commands
      continue;
    }
    if (session.action() == SessionAction::kClose) {
      run.closed = true;
    }
    if (used == 0 || pending.empty()) {
      break;
    }
  }
}

void run_transcript(const std::filesystem::path& path) {
  SCOPED_TRACE(path.filename().string());
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  SessionConfig config;
  config.message_bytes_max = 1000;
  config.recipients_max = 3;
  config.errors_max = 5;
  config.line_bytes_max = 512;
  config.helo_required = true;
  // "O: name" lines at the top switch options on for this transcript.
  std::string line;
  std::streampos body_start = file.tellg();
  while (std::getline(file, line) && (line.empty() || line[0] == '#' || line.rfind("O: ", 0) == 0)) {
    const std::string option = line.size() > 3 ? line.substr(3) : "";
    if (option == "starttls") config.starttls_offered = true;
    if (option == "auth") config.auth_enabled = true;
    if (option == "auth_plaintext") config.auth_plaintext_allowed = true;
    body_start = file.tellg();
  }
  file.clear();
  file.seekg(body_start);
  TestEnv env;
  ServerSession session(config, env, "[192.0.2.7]");
  Run run;
  run.output = session.greeting();
  std::string client;  // the pending pipelined write
  std::string expected;
  auto flush = [&] {
    if (!client.empty()) {
      send(session, client, run);
    }
  };
  while (std::getline(file, line)) {
    if (line.rfind("C: ", 0) == 0) {
      std::string text = line.substr(3);
      const bool no_crlf = text.size() >= 2 && text.compare(text.size() - 2, 2, "\\c") == 0;
      client += unescape(no_crlf ? text.substr(0, text.size() - 2) : text) + (no_crlf ? "" : "\r\n");
    } else if (line.rfind("S: ", 0) == 0) {
      flush();
      expected += line.substr(3) + "\r\n";
    } else if (line.rfind("M: ", 0) == 0) {
      flush();
      EXPECT_TRUE(run.committed.count(line.substr(3))) << "message " << line.substr(3);
    } else if (line.rfind("B: ", 0) == 0) {
      flush();
      const std::string want = unescape(line.substr(3));
      bool found = false;
      for (const auto& [id, body] : run.committed) {
        found = found || body.find(want) != std::string::npos;
      }
      EXPECT_TRUE(found) << "no committed body contains " << testing::PrintToString(want);
    } else if (line.rfind("CLOSED", 0) == 0) {
      flush();
      EXPECT_TRUE(run.closed);
    }
  }
  flush();
  EXPECT_EQ(run.output, expected);
}

TEST(SmtpSessionTest, GoldenTranscripts) {
  const std::filesystem::path dir = std::filesystem::path(RM_TEST_SOURCE_DIR) / "proto/smtp/transcripts";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") {
      run_transcript(entry.path());
      ++count;
    }
  }
  EXPECT_GE(count, 7);
}

}  // namespace
}  // namespace rm::smtp
