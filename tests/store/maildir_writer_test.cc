// Maildir delivery against real directories: the files are read back with Python's
// mailbox.Maildir (python3 must be on PATH), names and modes are checked, and the error
// paths (write failure, read-only directory, bad input) must leave nothing in tmp/ or new/.
#include "store/maildir/maildir_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/store/store_test_util.h"
#include "tests/common/subprocess.h"

namespace rm {
namespace {

using test::read_file;
using test::TempDir;

// Prints what mailbox.Maildir finds in argv[1] (or in its folder argv[2]).
const char kReadMaildir[] = R"PY(
import mailbox, sys
md = mailbox.Maildir(sys.argv[1], factory=None, create=False)
print('folders:', ' '.join(sorted(md.list_folders())))
if len(sys.argv) > 2:
    md = md.get_folder(sys.argv[2])
keys = sorted(md.keys())
print('count:', len(keys))
for key in keys:
    m = md[key]
    print('subdir:', m.get_subdir())
    for name, value in m.items():
        print('header:', name + ':', value)
    print('body:', repr(m.get_payload()))
)PY";

std::string run_python(const TempDir& dir, const std::string& script,
                       const std::vector<std::string>& args) {
  const std::string script_path = dir.sub("script.py");
  std::ofstream(script_path) << script;
  std::string command = "python3 '" + script_path + "'";
  for (const std::string& arg : args) {
    command += " '" + arg + "'";
  }
  return test::run_command(command);
}

size_t entries(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

int mode_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<int>(st.st_mode & 07777);
}

// Runs `fn` in a child process; returns its exit code (-1 if it did not exit normally).
int in_child(const std::function<int()>& fn) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::_exit(fn());
  }
  int wstatus = 0;
  EXPECT_EQ(::waitpid(pid, &wstatus, 0), pid);
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1;
}

const std::vector<std::string> kHeaders = {"Return-Path: <alice@example.org>",
                                           "Delivered-To: bob@example.net"};

TEST(MaildirWriterTest, DeliversIntoNewWithAUniqueName) {
  TempDir dir;
  const MaildirTarget target{dir.sub("Maildir"), "", "mx.example.net"};
  const std::vector<std::string_view> body = {"Subject: hi\r\n\r\nHello Bob.\r\n"};
  const Result<std::string> path = deliver_to_maildir(target, kHeaders, body);
  ASSERT_TRUE(path.ok()) << path.status().to_string();

  const std::string expected =
      "Return-Path: <alice@example.org>\nDelivered-To: bob@example.net\n"
      "Subject: hi\n\nHello Bob.\n";
  const std::regex name(dir.sub("Maildir") + "/new/[0-9]+\\.M[0-9]+P" + std::to_string(::getpid()) +
                        "Q[0-9]+\\.mx\\.example\\.net,S=" + std::to_string(expected.size()));
  EXPECT_TRUE(std::regex_match(*path, name)) << *path;
  EXPECT_EQ(read_file(*path), expected);
  EXPECT_EQ(mode_of(*path), 0600);
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) {
    EXPECT_EQ(mode_of(dir.sub("Maildir") + sub), 0700) << sub;
  }
  EXPECT_EQ(entries(dir.sub("Maildir/tmp")), 0u);

  const std::string py = run_python(dir, kReadMaildir, {dir.sub("Maildir")});
  EXPECT_EQ(py,
            "folders: \ncount: 1\nsubdir: new\n"
            "header: Return-Path: <alice@example.org>\n"
            "header: Delivered-To: bob@example.net\n"
            "header: Subject: hi\n"
            "body: 'Hello Bob.\\n'\n");
}

TEST(MaildirWriterTest, HostnameIsEscapedInTheName) {
  EXPECT_EQ(escape_maildir_hostname("a/b:c.example"), "a\\057b\\072c.example");
  TempDir dir;
  const MaildirTarget target{dir.sub("Maildir"), "", "odd/host:name"};
  const std::vector<std::string_view> body = {"Subject: x\r\n\r\n"};
  const Result<std::string> path = deliver_to_maildir(target, {}, body);
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  EXPECT_NE(path->find(".odd\\057host\\072name,S=12"), std::string::npos) << *path;
}

TEST(MaildirWriterTest, CrlfSplitAcrossPiecesBecomesLf) {
  TempDir dir;
  const MaildirTarget target{dir.sub("Maildir"), "", "h"};
  const std::vector<std::string_view> body = {"Subject: pieces\r",         "\n\r", "\nline1\r",
                                              "\nbare\rcr and bare\nlf\r", "",     "\r\nend\r"};
  const Result<std::string> path = deliver_to_maildir(target, {}, body);
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  EXPECT_EQ(read_file(*path), "Subject: pieces\n\nline1\nbare\rcr and bare\nlf\r\nend\r");
}

TEST(MaildirWriterTest, StreamsChunksAndCountsTheSize) {
  TempDir dir;
  Result<MaildirDelivery> delivery =
      MaildirDelivery::begin({dir.sub("Maildir"), "", "h"}, kHeaders);
  ASSERT_TRUE(delivery.ok()) << delivery.status().to_string();
  ASSERT_TRUE(delivery->append("Subject: big\r\n\r\n").ok());
  const std::string line = std::string(998, 'x') + "\r\n";
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(delivery->append(line).ok());
  }
  const Result<std::string> path = delivery->commit();
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  const uint64_t expected = kHeaders[0].size() + kHeaders[1].size() + 2 +
                            std::string_view("Subject: big\n\n").size() + 1000 * 999;
  EXPECT_EQ(delivery->size_bytes(), expected);
  EXPECT_EQ(std::filesystem::file_size(*path), expected);
  EXPECT_NE(path->find(",S=" + std::to_string(expected)), std::string::npos);
}

TEST(MaildirWriterTest, MaildirPlusPlusFolder) {
  TempDir dir;
  const MaildirTarget target{dir.sub("Maildir"), "Lists.rust", "h"};
  const std::vector<std::string_view> body = {"Subject: in a folder\r\n\r\nbody\r\n"};
  const Result<std::string> path = deliver_to_maildir(target, kHeaders, body);
  ASSERT_TRUE(path.ok()) << path.status().to_string();
  const std::string folder = dir.sub("Maildir/.Lists.rust");
  EXPECT_EQ(path->rfind(folder + "/new/", 0), 0u) << *path;
  EXPECT_TRUE(std::filesystem::exists(folder + "/maildirfolder"));
  for (const char* sub : {"", "/cur", "/new", "/tmp"}) {
    EXPECT_EQ(mode_of(folder + sub), 0700) << sub;
    EXPECT_EQ(mode_of(dir.sub("Maildir") + sub), 0700) << sub;
  }
  const std::string py = run_python(dir, kReadMaildir, {dir.sub("Maildir"), "Lists.rust"});
  EXPECT_NE(py.find("folders: Lists.rust\ncount: 1\n"), std::string::npos) << py;
  EXPECT_NE(py.find("header: Subject: in a folder\nbody: 'body\\n'\n"), std::string::npos) << py;
}

TEST(MaildirWriterTest, RefusesBadFolderNamesAndHeaderLines) {
  TempDir dir;
  const std::vector<std::string_view> body = {"x\r\n"};
  for (const char* folder : {"../evil", "a/b", ".hidden", "a..b", "trailing.", "\x01"}) {
    const Result<std::string> r = deliver_to_maildir({dir.sub("M"), folder, "h"}, {}, body);
    ASSERT_FALSE(r.ok()) << folder;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << folder;
  }
  const std::vector<std::string> injected = {"Delivered-To: a\r\nBcc: b"};
  const Result<std::string> r = deliver_to_maildir({dir.sub("M"), "", "h"}, injected, body);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir.sub("evil")));
  EXPECT_EQ(entries(dir.sub("M/tmp")), 0u);
  EXPECT_EQ(entries(dir.sub("M/new")), 0u);
}

TEST(MaildirWriterTest, AbandonedDeliveryLeavesNothing) {
  TempDir dir;
  {
    Result<MaildirDelivery> delivery = MaildirDelivery::begin({dir.sub("M"), "", "h"}, kHeaders);
    ASSERT_TRUE(delivery.ok());
    ASSERT_TRUE(delivery->append("Subject: never\r\n").ok());
    EXPECT_EQ(entries(dir.sub("M/tmp")), 1u);
  }
  EXPECT_EQ(entries(dir.sub("M/tmp")), 0u);
  EXPECT_EQ(entries(dir.sub("M/new")), 0u);
}

TEST(MaildirWriterTest, ConcurrentDeliveriesGetDistinctFiles) {
  TempDir dir;
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> paths(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string text =
            "Subject: " + std::to_string(t) + "-" + std::to_string(i) + "\r\n\r\nbody\r\n";
        const std::vector<std::string_view> body = {text};
        const Result<std::string> p = deliver_to_maildir({dir.sub("M"), "", "h"}, {}, body);
        EXPECT_TRUE(p.ok()) << p.status().to_string();
        if (p.ok()) {
          paths[t].push_back(*p);
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  std::set<std::string> unique;
  for (const auto& list : paths) {
    unique.insert(list.begin(), list.end());
  }
  EXPECT_EQ(unique.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(entries(dir.sub("M/new")), static_cast<size_t>(kThreads * kEach));
  const std::string py = run_python(dir, kReadMaildir, {dir.sub("M")});
  EXPECT_NE(py.find("count: 200\n"), std::string::npos) << py.substr(0, 200);
}

// A write that fails half-way (the file size limit stands in for a full disk) returns the
// error and removes the file from tmp/.
TEST(MaildirWriterTest, WriteErrorRemovesTheTmpFile) {
  TempDir dir;
  const std::string big(64 * 1024, 'x');
  const int code = in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      return 99;
    }
    const std::vector<std::string_view> body = {"Subject: big\r\n\r\n", big};
    const Result<std::string> r = deliver_to_maildir({dir.sub("M"), "", "h"}, kHeaders, body);
    return r.ok() ? 0 : static_cast<int>(r.status().code());
  });
  EXPECT_EQ(code, static_cast<int>(StatusCode::kIoError));  // EFBIG
  EXPECT_EQ(entries(dir.sub("M/tmp")), 0u);
  EXPECT_EQ(entries(dir.sub("M/new")), 0u);
}

// tmp/ without write permission: the delivery fails and nothing appears. Root ignores
// permissions, so the child drops to "nobody" first when it runs as root.
TEST(MaildirWriterTest, ReadOnlyDirectoryFails) {
  TempDir dir;
  const std::vector<std::string_view> body = {"Subject: x\r\n\r\n"};
  ASSERT_TRUE(deliver_to_maildir({dir.sub("M"), "", "h"}, {}, body).ok());
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.sub("M").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.sub("M/tmp").c_str(), 0555), 0);
  const int code = in_child([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      return 99;
    }
    const Result<std::string> r = deliver_to_maildir({dir.sub("M"), "", "h"}, {}, body);
    return r.ok() ? 0 : static_cast<int>(r.status().code());
  });
  if (code == 99) {
    GTEST_SKIP() << "cannot drop root privileges here";
  }
  EXPECT_EQ(code, static_cast<int>(StatusCode::kIoError));
  EXPECT_EQ(entries(dir.sub("M/tmp")), 0u);
  EXPECT_EQ(entries(dir.sub("M/new")), 1u);
}

TEST(MaildirWriterTest, RootUnderAFileFails) {
  TempDir dir;
  std::ofstream(dir.sub("file")) << "x";
  const std::vector<std::string_view> body = {"x\r\n"};
  const Result<std::string> r = deliver_to_maildir({dir.sub("file/M"), "", "h"}, {}, body);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_NE(r.status().message().find("Not a directory"), std::string_view::npos)
      << r.status().to_string();
}

}  // namespace
}  // namespace rm
