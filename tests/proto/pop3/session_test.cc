// Golden transcripts for the POP3 server session: tests/proto/pop3/transcripts/*.txt hold
// client lines ("C: ", sent with CRLF; "\r", "\n" escapes; a trailing "\c" sends no CRLF)
// and the exact server lines expected ("S: "). Consecutive C lines are sent as one write
// (pipelined). "A: ..." checks the next action the session asked of the driver (the fake
// driver below answers each at once); "E: timeout|shutdown" is a driver event; "CLOSED"
// checks that the session asked to close. "O: tls|implicit_tls|plaintext|strict" enables an
// option (strict: 5 bad commands instead of 10).
// The fake maildrop: alice/secret logs in to four messages (the fourth cannot be read any
// more), many/secret to seven (more than the listing limit of five), busy/secret is in
// use, tempfail/* cannot be checked; anything else is a wrong password.
#include "proto/pop3/session.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/base/base64.h"

namespace rm::pop3 {
namespace {

struct FakeMessage {
  std::string unique_id;
  std::string text;
};

std::vector<FakeMessage> alice_messages() {
  return {
      {"1700000000-1", "From: bob@example.org\r\nSubject: hello\r\n\r\nHi Alice.\r\n"},
      // Bare LFs, lines that start with dots, a lone dot, no final line end.
      {"1700000000-2", "Subject: dots\n\n.hidden\n..two dots\n.\nno final newline"},
      {"1700000000-3",
       "Subject: top\r\nX-Folded: a\r\n\tb\r\n\r\nline 1\r\n.line 2\r\nline 3\r\nline 4\r\n"},
      {"1700000000-4", "Subject: gone\r\n\r\nremoved by IMAP\r\n"},
  };
}

std::vector<FakeMessage> many_messages() {
  std::vector<FakeMessage> messages;
  for (int i = 1; i <= 7; ++i) {
    messages.push_back(
        {"42-" + std::to_string(i), "Subject: " + std::to_string(i) + "\r\n\r\nx\r\n"});
  }
  return messages;
}

// The size RETR sends: every line end as CRLF, a final CRLF added, no stuffing.
uint64_t wire_size(std::string_view text) {
  uint64_t size = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
      ++size;
    }
    ++size;
  }
  return text.empty() || text.back() == '\n' ? size : size + 2;
}

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

// A driver that answers every action at once and writes down what it was asked.
class FakeDriver {
 public:
  explicit FakeDriver(Pop3Session& session) : session_(session) {}

  void send(std::string& pending) {
    while (!closed_) {
      const size_t used = session_.feed(pending);
      EXPECT_LE(used, pending.size());
      pending.erase(0, used);
      const bool acted = run_actions();
      output_ += session_.take_output();
      if (!acted && (used == 0 || pending.empty())) {
        break;
      }
    }
  }

  void event(std::string_view name) {
    if (name == "timeout") {
      session_.on_timeout();
    } else if (name == "shutdown") {
      session_.on_shutdown();
    } else {
      ADD_FAILURE() << "unknown event " << name;
    }
    run_actions();
    output_ += session_.take_output();
  }

  bool run_actions() {
    bool acted = false;
    while (std::optional<Pop3Action> action = session_.next_action()) {
      acted = true;
      answer(*action);
    }
    return acted;
  }

  std::string& output() { return output_; }
  const std::vector<std::string>& actions() const { return actions_; }
  bool closed() const { return closed_; }

 private:
  void answer(const Pop3Action& a) {
    switch (a.kind) {
      case Pop3ActionKind::kAuthenticate:
        return authenticate(a.user, a.password);
      case Pop3ActionKind::kStartTls:
        actions_.push_back("starttls");
        return session_.on_tls_started();
      case Pop3ActionKind::kFetchMessage:
        return fetch(a);
      case Pop3ActionKind::kUpdate: {
        std::string line = "update";
        for (const uint32_t n : a.deleted) {
          line += " " + std::to_string(n);
        }
        actions_.push_back(line);
        return session_.on_update_done(true);
      }
      case Pop3ActionKind::kClose:
        actions_.push_back("close");
        closed_ = true;
        return;
    }
  }

  void authenticate(const std::string& user, const std::string& password) {
    actions_.push_back("auth " + user + " " + password);
    if (user == "tempfail") {
      return session_.on_auth_result(Pop3AuthResult::kTemporaryFailure);
    }
    if (password != "secret" || (user != "alice" && user != "many" && user != "busy")) {
      return session_.on_auth_result(Pop3AuthResult::kFailed);
    }
    if (user == "busy") {
      return session_.on_auth_result(Pop3AuthResult::kInUse);
    }
    maildrop_ = user == "alice" ? alice_messages() : many_messages();
    std::vector<Pop3MessageInfo> listing;
    for (const FakeMessage& m : maildrop_) {
      listing.push_back({wire_size(m.text), m.unique_id});
    }
    session_.on_auth_result(Pop3AuthResult::kOk, std::move(listing));
  }

  void fetch(const Pop3Action& a) {
    std::string line = "fetch " + std::to_string(a.message_number) + " " + a.unique_id;
    if (a.top_body_lines) {
      line += " top " + std::to_string(*a.top_body_lines);
    }
    actions_.push_back(line);
    const FakeMessage& m = maildrop_.at(a.message_number - 1);
    EXPECT_EQ(m.unique_id, a.unique_id);
    if (m.unique_id == "1700000000-4") {
      return session_.on_message_failed(Pop3FetchError::kGone);
    }
    session_.on_message(m.text);
  }

  Pop3Session& session_;
  std::string output_;
  std::vector<std::string> actions_;
  std::vector<FakeMessage> maildrop_;
  bool closed_ = false;
};

Pop3Options transcript_options() {
  Pop3Options options;
  options.hostname = "pop.example.org";
  options.bad_commands_max = 10;
  options.auth_failures_max = 3;
  options.messages_max = 5;
  options.argument_bytes_max = 40;
  options.line_bytes_max = 64;
  options.sasl_line_bytes_max = 128;
  return options;
}

void run_transcript(const std::filesystem::path& path) {
  SCOPED_TRACE(path.filename().string());
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  Pop3Options options = transcript_options();
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) {
    if (line.rfind("O: ", 0) == 0) {
      const std::string option = line.substr(3);
      if (option == "tls")
        options.tls_available = true;
      if (option == "implicit_tls")
        options.tls_available = options.tls_active = true;
      if (option == "plaintext")
        options.plaintext_auth_allowed = true;
      if (option == "strict")
        options.bad_commands_max = 5;
    } else {
      lines.push_back(std::move(line));
    }
  }
  Pop3Session session(options);
  session.on_connect();
  FakeDriver driver(session);
  driver.output() = session.take_output();
  std::string client;  // the pending pipelined write
  std::string expected;
  size_t actions_checked = 0;
  auto flush = [&] {
    if (!client.empty()) {
      driver.send(client);
    }
  };
  for (const std::string& line : lines) {
    if (line.rfind("C: ", 0) == 0) {
      std::string text = line.substr(3);
      const bool no_crlf = text.size() >= 2 && text.compare(text.size() - 2, 2, "\\c") == 0;
      client +=
          unescape(no_crlf ? text.substr(0, text.size() - 2) : text) + (no_crlf ? "" : "\r\n");
    } else if (line.rfind("S: ", 0) == 0) {
      flush();
      expected += line.substr(3) + "\r\n";
    } else if (line.rfind("A: ", 0) == 0) {
      flush();
      ASSERT_LT(actions_checked, driver.actions().size()) << "no action for " << line;
      EXPECT_EQ(driver.actions()[actions_checked++], line.substr(3));
    } else if (line.rfind("E: ", 0) == 0) {
      flush();
      driver.event(line.substr(3));
    } else if (line == "CLOSED") {
      flush();
      EXPECT_TRUE(driver.closed());
    }
  }
  flush();
  EXPECT_EQ(driver.output(), expected);
  EXPECT_EQ(actions_checked, driver.actions().size()) << "actions not checked by the transcript";
}

TEST(Pop3SessionTest, GoldenTranscripts) {
  const std::filesystem::path dir =
      std::filesystem::path(RM_TEST_SOURCE_DIR) / "proto/pop3/transcripts";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") {
      run_transcript(entry.path());
      ++count;
    }
  }
  EXPECT_GE(count, 10);
}

// ---- the API, driven step by step

Pop3Options plaintext_options() {
  Pop3Options options = transcript_options();
  options.plaintext_auth_allowed = true;
  return options;
}

std::vector<Pop3MessageInfo> two_messages() {
  return {{10, "7-1"}, {20, "7-2"}};
}

// Logs in with USER/PASS, answering the check at once.
void log_in(Pop3Session& session) {
  session.on_connect();
  const std::string input = "USER alice\r\nPASS secret\r\n";
  ASSERT_EQ(session.feed(input), input.size());
  std::optional<Pop3Action> action = session.next_action();
  ASSERT_TRUE(action);
  ASSERT_EQ(action->kind, Pop3ActionKind::kAuthenticate);
  session.on_auth_result(Pop3AuthResult::kOk, two_messages());
  ASSERT_TRUE(session.authenticated());
  session.take_output();
}

TEST(Pop3SessionTest, WaitingHoldsThePipelinedCommands) {
  Pop3Session session(plaintext_options());
  session.on_connect();
  EXPECT_EQ(session.take_output(), "+OK pop.example.org POP3 ringmail ready\r\n");
  std::string pending = "USER alice\r\nPASS secret\r\nSTAT\r\nNOOP\r\n";
  pending.erase(0, session.feed(pending));
  EXPECT_EQ(pending, "STAT\r\nNOOP\r\n");
  EXPECT_TRUE(session.waiting());
  EXPECT_EQ(session.feed(pending), 0u);
  std::optional<Pop3Action> action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kAuthenticate);
  EXPECT_EQ(action->user, "alice");
  EXPECT_EQ(action->password, "secret");
  EXPECT_FALSE(session.next_action());  // given once
  EXPECT_FALSE(session.authenticated());
  EXPECT_EQ(session.user(), "");
  session.on_auth_result(Pop3AuthResult::kOk, two_messages());
  EXPECT_FALSE(session.waiting());
  EXPECT_TRUE(session.authenticated());
  EXPECT_EQ(session.user(), "alice");
  EXPECT_EQ(session.feed(pending), pending.size());
  EXPECT_EQ(session.take_output(),
            "+OK Send PASS\r\n+OK Logged in, 2 messages (30 octets)\r\n+OK 2 30\r\n+OK\r\n");
  EXPECT_FALSE(session.has_output());
}

TEST(Pop3SessionTest, IncompleteLinesWait) {
  Pop3Session session(plaintext_options());
  session.on_connect();
  session.take_output();
  EXPECT_EQ(session.feed("CA"), 0u);
  EXPECT_EQ(session.feed("CAPA\r"), 0u);
  EXPECT_FALSE(session.has_output());
  EXPECT_EQ(session.feed("CAPA\r\nCA"), 6u);
  EXPECT_TRUE(session.has_output());
}

TEST(Pop3SessionTest, ByteAtATimeGivesTheSameOutput) {
  const std::string input =
      "CAPA\r\nUSER alice\nPASS secret\r\nLIST\r\nUIDL 2\r\nRETR 1\r\nDELE 1\r\n"
      "XYZZY\r\nQUIT\r\n";
  auto run = [&input](size_t step) {
    Pop3Session session(plaintext_options());
    session.on_connect();
    std::string pending;
    std::string output;
    std::vector<uint32_t> deleted;
    for (size_t pos = 0; pos < input.size() || !pending.empty();) {
      if (pos < input.size()) {
        pending.append(input, pos, step);
        pos += step;
      }
      pending.erase(0, session.feed(pending));
      bool acted = false;
      while (std::optional<Pop3Action> a = session.next_action()) {
        acted = true;
        if (a->kind == Pop3ActionKind::kAuthenticate) {
          session.on_auth_result(Pop3AuthResult::kOk, two_messages());
        } else if (a->kind == Pop3ActionKind::kFetchMessage) {
          session.on_message("Subject: x\n\n.body\n");
        } else if (a->kind == Pop3ActionKind::kUpdate) {
          deleted = a->deleted;
          session.on_update_done(true);
        }
      }
      if (!acted && pos >= input.size()) {
        break;
      }
    }
    EXPECT_TRUE(session.closed());
    EXPECT_EQ(deleted, std::vector<uint32_t>{1});
    return output + session.take_output();
  };
  const std::string whole = run(input.size());
  EXPECT_NE(whole.find("+OK 10 octets\r\nSubject: x\r\n\r\n..body\r\n.\r\n"), std::string::npos);
  EXPECT_NE(whole.find("-ERR Unknown command\r\n"), std::string::npos);
  EXPECT_NE(whole.find("+OK ringmail signing off (1 messages left)\r\n"), std::string::npos);
  EXPECT_EQ(run(1), whole);
  EXPECT_EQ(run(7), whole);
}

TEST(Pop3SessionTest, LongLinesAreDroppedAsTheyArrive) {
  Pop3Session session(plaintext_options());
  session.on_connect();
  session.take_output();
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 256; ++i) {  // a megabyte without a line end, all consumed
    ASSERT_EQ(session.feed(chunk), chunk.size());
  }
  EXPECT_EQ(session.take_output(), "-ERR Line too long\r\n");
  EXPECT_EQ(session.feed("still the same line\r\nCAPA\r\n"), 27u);
  EXPECT_EQ(session.take_output().rfind("+OK Capability list follows\r\n", 0), 0u);
}

TEST(Pop3SessionTest, LineAtTheLimitIsAccepted) {
  Pop3Options options = plaintext_options();
  options.line_bytes_max = 45;
  // 45 octets with the CRLF, then 46.
  std::string line = "USER " + std::string(38, 'u') + "\r\n";
  line += "USER " + std::string(39, 'u') + "\r\n";
  Pop3Session strict(options);
  strict.on_connect();
  strict.take_output();
  EXPECT_EQ(strict.feed(line), line.size());
  EXPECT_EQ(strict.take_output(), "+OK Send PASS\r\n-ERR Line too long\r\n");
}

TEST(Pop3SessionTest, SaslResponseMayBeLongerThanACommand) {
  Pop3Session session(plaintext_options());  // 64-octet commands, 128-octet SASL lines
  session.on_connect();
  const std::string password(70, 'p');
  const std::string response = base64_encode(std::string("\0alice\0", 7) + password);
  ASSERT_GT(response.size(), 64u);
  const std::string input = "AUTH PLAIN\r\n" + response + "\r\n";
  EXPECT_EQ(session.feed(input), input.size());
  std::optional<Pop3Action> action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kAuthenticate);
  EXPECT_EQ(action->user, "alice");
  EXPECT_EQ(action->password, password);
  EXPECT_EQ(session.feed("AUTH PLAIN " + response + "\r\n"), 0u);  // still waiting
}

TEST(Pop3SessionTest, StlsDropsWhatFollowsInPlaintext) {
  Pop3Options options = transcript_options();
  options.tls_available = true;
  Pop3Session session(options);
  session.on_connect();
  session.take_output();
  const std::string input = "STLS\r\nUSER mallory\r\nPASS x\r\n";
  EXPECT_EQ(session.feed(input), input.size());
  EXPECT_EQ(session.take_output(), "+OK Begin TLS negotiation\r\n");
  std::optional<Pop3Action> action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kStartTls);
  EXPECT_TRUE(session.waiting());
  EXPECT_FALSE(session.tls_active());
  session.on_tls_started();
  EXPECT_TRUE(session.tls_active());
  EXPECT_FALSE(session.has_output());  // no second greeting
  EXPECT_EQ(session.feed("PASS x\r\n"), 8u);
  EXPECT_EQ(session.take_output(), "-ERR Send USER first\r\n");
}

TEST(Pop3SessionTest, AnswersAfterTheEndAreIgnored) {
  Pop3Session session(plaintext_options());
  session.on_connect();
  EXPECT_EQ(session.feed("USER a\r\nPASS b\r\n"), 16u);
  ASSERT_TRUE(session.next_action());
  session.on_timeout();
  EXPECT_TRUE(session.closed());
  std::optional<Pop3Action> action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kClose);
  session.take_output();
  session.on_auth_result(Pop3AuthResult::kOk, two_messages());
  EXPECT_FALSE(session.authenticated());
  EXPECT_FALSE(session.has_output());
  EXPECT_FALSE(session.next_action());
  EXPECT_EQ(session.feed("STAT\r\n"), 6u);  // consumed and ignored
  EXPECT_FALSE(session.has_output());
}

TEST(Pop3SessionTest, FetchAndUpdateFailures) {
  Pop3Session session(plaintext_options());
  log_in(session);
  EXPECT_EQ(session.feed("TOP 2 0\r\n"), 9u);
  std::optional<Pop3Action> action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kFetchMessage);
  EXPECT_EQ(action->message_number, 2u);
  EXPECT_EQ(action->unique_id, "7-2");
  EXPECT_EQ(action->top_body_lines, 0u);
  session.on_message_failed(Pop3FetchError::kTemporary);
  EXPECT_EQ(session.take_output(),
            "-ERR [SYS/TEMP] Message temporarily unavailable, try again later\r\n");
  EXPECT_EQ(session.feed("DELE 2\r\nDELE 1\r\nQUIT\r\n"), 22u);
  action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kUpdate);
  EXPECT_EQ(action->deleted, (std::vector<uint32_t>{1, 2}));
  session.on_update_done(false);
  EXPECT_EQ(session.take_output(),
            "+OK Message 2 deleted\r\n+OK Message 1 deleted\r\n"
            "-ERR [SYS/TEMP] Some deleted messages were not removed\r\n");
  action = session.next_action();
  ASSERT_TRUE(action);
  EXPECT_EQ(action->kind, Pop3ActionKind::kClose);
}

TEST(Pop3SessionTest, MessageInChunks) {
  Pop3Session session(plaintext_options());
  log_in(session);
  EXPECT_EQ(session.feed("RETR 1\r\nTOP 2 1\r\n"), 8u);
  ASSERT_TRUE(session.next_action());
  session.on_message_chunk("Subject: a\r", false);
  EXPECT_EQ(session.take_output(), "+OK 10 octets\r\nSubject: a\r\n");
  EXPECT_TRUE(session.waiting());
  session.on_message_chunk("\n\r\n.", false);
  session.on_message_chunk("dot", false);
  session.on_message_chunk("", true);
  EXPECT_FALSE(session.waiting());
  EXPECT_EQ(session.take_output(), "\r\n..dot\r\n.\r\n");
  EXPECT_EQ(session.feed("TOP 2 1\r\n"), 9u);
  ASSERT_TRUE(session.next_action());
  session.on_message_chunk("H: 1\n\nline 1\nli", false);
  session.on_message_chunk("ne 2\n", true);
  EXPECT_EQ(session.take_output(), "+OK Top of message follows\r\nH: 1\r\n\r\nline 1\r\n.\r\n");
}

TEST(Pop3SessionTest, EmptyMaildrop) {
  Pop3Session session(plaintext_options());
  session.on_connect();
  EXPECT_EQ(session.feed("USER a\r\nPASS b\r\n"), 16u);
  ASSERT_TRUE(session.next_action());
  session.on_auth_result(Pop3AuthResult::kOk, {});
  EXPECT_EQ(session.take_output().rfind("+OK pop.example.org", 0), 0u);
  const std::string input = "STAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nRSET\r\nQUIT\r\n";
  EXPECT_EQ(session.feed(input), input.size());
  EXPECT_EQ(session.take_output(),
            "+OK 0 0\r\n+OK 0 messages (0 octets)\r\n.\r\n+OK\r\n.\r\n-ERR No such message\r\n"
            "+OK 0 messages (0 octets)\r\n+OK ringmail signing off\r\n");
}

}  // namespace
}  // namespace rm::pop3
