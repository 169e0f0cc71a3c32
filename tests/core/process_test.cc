// The real executables: ringmaild started, probed, and stopped; its config checks; the CLI.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/core/test_client.h"

extern char** environ;

namespace rm {
namespace {

using test::Client;
using test::now_ms;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "rm_process_XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process with stdout and stderr in files; killed at the end if still running.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& out_path,
          const std::string& err_path) {
    std::vector<char*> argv;
    for (const std::string& arg : args) {
      argv.push_back(const_cast<char*>(arg.c_str()));
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    posix_spawn_file_actions_addopen(&files, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
    // The child starts with default signal handling whatever this process changed.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (posix_spawn(&pid_, argv[0], &files, &attr, argv.data(), environ) != 0) {
      pid_ = -1;
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&files);
    EXPECT_GT(pid_, 0) << "cannot start " << args[0];
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void signal(int signo) {
    if (pid_ > 0) {
      ::kill(pid_, signo);
    }
  }

  // The exit code (128 + signal when killed), or -1 if it still runs after `timeout_ms`.
  int wait(int timeout_ms) {
    const int64_t deadline = now_ms() + timeout_ms;
    while (pid_ > 0) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      } else if (done < 0 || now_ms() >= deadline) {
        break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    return exit_code_;
  }
  bool running() { return wait(0) == -1 && pid_ > 0; }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// The number after "key": in a flat JSON object; -1 if absent.
int64_t json_number(const std::string& json, const std::string& key) {
  const size_t at = json.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::atoll(json.c_str() + at + key.size() + 3);
}

struct Output {
  int code;
  std::string out;
  std::string err;
};

Output run(const TempDir& dir, const std::vector<std::string>& args, int timeout_ms = 10000) {
  const std::string out = dir.file("run.out");
  const std::string err = dir.file("run.err");
  Process process(args, out, err);
  const int code = process.wait(timeout_ms);
  return Output{code, read_file(out), read_file(err)};
}

// ringmaild on free loopback ports in a temp data directory.
class Server {
 public:
  Server() {
    const char* names[] = {"smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s"};
    const std::vector<uint16_t> ports = test::pick_free_ports(std::size(names));
    EXPECT_EQ(ports.size(), std::size(names));
    smtp_port_ = ports.at(0);
    std::string listeners;
    for (size_t i = 0; i < ports.size(); ++i) {
      listeners += std::string(i == 0 ? "" : ", ") + "\"" + names[i] +
                   "\": {\"port\": " + std::to_string(ports[i]) + "}";
    }
    write_file(dir_.file("config.json"),
               "{\"runtime\": {\"shards\": 2}, \"listeners\": {" + listeners + "}}\n");
    process_ =
        std::make_unique<Process>(std::vector<std::string>{RM_RINGMAILD_PATH, "--data", data(),
                                                           "--config", dir_.file("config.json")},
                                  dir_.file("ringmaild.out"), dir_.file("ringmaild.err"));
  }

  std::string data() const { return dir_.file("data"); }
  uint16_t smtp_port() const { return smtp_port_; }
  Process& process() { return *process_; }
  const TempDir& dir() const { return dir_; }
  std::string log() const { return read_file(dir_.file("ringmaild.err")); }

  Output ringmail(const std::vector<std::string>& words) {
    std::vector<std::string> args{RM_RINGMAIL_PATH, "--data", data()};
    args.insert(args.end(), words.begin(), words.end());
    return run(dir_, args);
  }

  // Polls `ringmail status --json` until it answers.
  bool wait_ready(int timeout_ms = 10000) {
    const int64_t deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline && process_->running()) {
      const Output status = ringmail({"status", "--json"});
      if (status.code == 0) {
        status_json_ = status.out;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  const std::string& status_json() const { return status_json_; }

 private:
  TempDir dir_;
  uint16_t smtp_port_ = 0;
  std::unique_ptr<Process> process_;
  std::string status_json_;
};

TEST(ProcessTest, ServerAnswersAndStopsCleanlyOnSigterm) {
  Server server;
  ASSERT_TRUE(server.wait_ready()) << server.log();
  EXPECT_NE(server.status_json().find("\"ok\":true"), std::string::npos) << server.status_json();
  EXPECT_NE(server.status_json().find("\"shards\":2"), std::string::npos) << server.status_json();

  Client smtp = Client::tcp(server.smtp_port());
  ASSERT_TRUE(smtp.ok());
  // An SMTP answer: the greeting, or "service not available" from a build that does not
  // serve SMTP yet (or is at its connection limit).
  const std::string greeting = smtp.read_line();
  EXPECT_TRUE(greeting.rfind("220 ", 0) == 0 || greeting.rfind("421 4.3.2", 0) == 0) << greeting;

  // Idle sessions on the control socket, and TCP clients that read nothing.
  std::vector<Client> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(Client::unix_socket(server.data() + "/control.sock"));
    ASSERT_TRUE(idle.back().ok());
    idle.push_back(Client::tcp(server.smtp_port()));
    ASSERT_TRUE(idle.back().ok());
  }
  // Sure they are open: the three idle control sessions plus the status request itself.
  const int64_t give_up = now_ms() + 5000;
  while (json_number(server.ringmail({"status", "--json"}).out, "connections_open") < 4 &&
         now_ms() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GE(json_number(server.ringmail({"status", "--json"}).out, "connections_open"), 4);
  server.process().signal(SIGTERM);
  EXPECT_EQ(server.process().wait(5000), 0) << server.log();
  EXPECT_FALSE(std::filesystem::exists(server.data() + "/control.sock"));
}

TEST(ProcessTest, RingmailStopStopsTheServer) {
  Server server;
  ASSERT_TRUE(server.wait_ready()) << server.log();
  const Output stop = server.ringmail({"stop"});
  EXPECT_EQ(stop.code, 0) << stop.out << stop.err;
  EXPECT_EQ(server.process().wait(5000), 0) << server.log();
}

TEST(ProcessTest, CheckConfigNamesAMisspelledKey) {
  TempDir dir;
  write_file(dir.file("bad.json"), R"({"runtime": {"shardz": 2}})");
  const Output check = run(dir, {RM_RINGMAILD_PATH, "--check-config", dir.file("bad.json")});
  EXPECT_EQ(check.code, 2);
  EXPECT_NE(check.err.find("runtime.shardz"), std::string::npos) << check.err;
}

TEST(ProcessTest, PrintedConfigIsValid) {
  TempDir dir;
  const Output printed = run(dir, {RM_RINGMAILD_PATH, "--print-config"});
  ASSERT_EQ(printed.code, 0) << printed.err;
  write_file(dir.file("printed.json"), printed.out);
  const Output check = run(dir, {RM_RINGMAILD_PATH, "--check-config", dir.file("printed.json")});
  EXPECT_EQ(check.code, 0) << check.err;
}

TEST(ProcessTest, RingmailHelpExitsZero) {
  TempDir dir;
  const Output help = run(dir, {RM_RINGMAIL_PATH, "--help"});
  EXPECT_EQ(help.code, 0) << help.err;
  EXPECT_NE(help.out.find("status"), std::string::npos) << help.out;
  const Output status_help = run(dir, {RM_RINGMAIL_PATH, "status", "--help"});
  EXPECT_EQ(status_help.code, 0) << status_help.err;
  EXPECT_NE(status_help.out.find("usage:"), std::string::npos) << status_help.out;
}

}  // namespace
}  // namespace rm
