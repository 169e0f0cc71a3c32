// mbox appends against real files: read back with Python's mailbox.mbox (python3 must be on
// PATH), mboxrd quoting however the body is split, appends from threads and processes at
// once, both locks (timeouts, stale dotlocks, a classic fcntl lock held by another process),
// and truncation after a failed write.
#include "store/mbox/mbox_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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

// Prints what mailbox.mbox finds in argv[1].
const char kReadMbox[] = R"PY(
import mailbox, sys
mb = mailbox.mbox(sys.argv[1], create=False)
print('count:', len(mb))
for m in mb:
    print('from:', m.get_from())
    for name, value in m.items():
        print('header:', name + ':', value)
    print('body:', repr(m.get_payload()))
)PY";

// For the concurrency test: every message's body lines must all name its own X-Id.
const char kCheckMbox[] = R"PY(
import mailbox, sys
mb = mailbox.mbox(sys.argv[1], create=False)
ids = set()
bad = 0
for m in mb:
    ident = m['X-Id']
    lines = m.get_payload().split('\n')
    if lines[-1] != '' or any(line != 'line of ' + ident for line in lines[:-1]):
        bad += 1
    ids.add(ident)
print('count:', len(mb), 'distinct:', len(ids), 'bad:', bad)
)PY";

std::string run_python(const TempDir& dir, const std::string& script, const std::string& arg) {
  const std::string script_path = dir.sub("script.py");
  std::ofstream(script_path) << script;
  const std::string command = "python3 '" + script_path + "' '" + arg + "'";
  return test::run_command(command);
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

constexpr int64_t kWhen = 1700000000;  // Tue Nov 14 22:13:20 2023 UTC

Status append(const std::string& path, std::string_view sender,
              const std::vector<std::string_view>& body,
              const std::vector<std::string>& headers = {}, const MboxOptions& options = {}) {
  return mbox_append(path, MboxMessage{sender, kWhen, headers, body}, options);
}

TEST(MboxWriterTest, FromLine) {
  EXPECT_EQ(mbox_from_line("alice@example.org", kWhen),
            "From alice@example.org Tue Nov 14 22:13:20 2023");
  EXPECT_EQ(mbox_from_line("", 0), "From MAILER-DAEMON Thu Jan  1 00:00:00 1970");
  EXPECT_EQ(mbox_from_line("\"a b\"@x\r\n", 1699056000),
            "From \"a_b\"@x__ Sat Nov  4 00:00:00 2023");
}

TEST(MboxWriterTest, AppendsMessagesPythonReads) {
  TempDir dir;
  const std::string path = dir.sub("mbox");
  const std::vector<std::string> headers = {"Return-Path: <alice@example.org>",
                                            "Delivered-To: bob@example.net"};
  ASSERT_TRUE(append(path, "alice@example.org", {"Subject: one\r\n\r\nfirst\r\n"}, headers).ok());
  ASSERT_TRUE(append(path, "", {"Subject: two\r\n\r\nsecond, no final newline"}).ok());
  EXPECT_EQ(read_file(path),
            "From alice@example.org Tue Nov 14 22:13:20 2023\n"
            "Return-Path: <alice@example.org>\nDelivered-To: bob@example.net\n"
            "Subject: one\n\nfirst\n\n"
            "From MAILER-DAEMON Tue Nov 14 22:13:20 2023\n"
            "Subject: two\n\nsecond, no final newline\n\n");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path + ".lock"));
  EXPECT_EQ(run_python(dir, kReadMbox, path),
            "count: 2\n"
            "from: alice@example.org Tue Nov 14 22:13:20 2023\n"
            "header: Return-Path: <alice@example.org>\n"
            "header: Delivered-To: bob@example.net\n"
            "header: Subject: one\n"
            "body: 'first\\n'\n"
            "from: MAILER-DAEMON Tue Nov 14 22:13:20 2023\n"
            "header: Subject: two\n"
            "body: 'second, no final newline\\n'\n");
}

// Python's mailbox.mbox does not unquote, so the quoted (mboxrd) form is what it returns.
TEST(MboxWriterTest, FromQuotingWhereverTheBodyIsSplit) {
  const std::string body =
      "Subject: quoting\r\n\r\nFrom here\r\n>From there\r\n>>From x\r\nFromage\r\nFrom\r\n"
      " From x\r\n>F\r\nFrom \r\nFrom";
  const std::string quoted =
      "Subject: quoting\n\n>From here\n>>From there\n>>>From x\nFromage\nFrom\n"
      " From x\n>F\n>From \nFrom\n";
  TempDir dir;
  for (size_t split = 0; split <= body.size(); ++split) {
    const std::string path = dir.sub("mbox" + std::to_string(split));
    const std::string_view whole = body;
    ASSERT_TRUE(append(path, "a@b", {whole.substr(0, split), whole.substr(split)}).ok());
    EXPECT_EQ(read_file(path), "From a@b Tue Nov 14 22:13:20 2023\n" + quoted + "\n")
        << "split at " << split;
  }
  EXPECT_EQ(run_python(dir, kReadMbox, dir.sub("mbox7")),
            "count: 1\nfrom: a@b Tue Nov 14 22:13:20 2023\nheader: Subject: quoting\n"
            "body: '>From here\\n>>From there\\n>>>From x\\nFromage\\nFrom\\n From x\\n>F\\n"
            ">From \\nFrom\\n'\n");
}

TEST(MboxWriterTest, FileWithoutFinalNewlineGetsOne) {
  TempDir dir;
  const std::string path = dir.sub("mbox");
  std::ofstream(path) << "From x Thu Jan  1 00:00:00 1970\nSubject: old\n\nno newline";
  ASSERT_TRUE(append(path, "a@b", {"Subject: new\r\n\r\nnew\r\n"}).ok());
  const std::string py = run_python(dir, kReadMbox, path);
  EXPECT_NE(py.find("count: 2\n"), std::string::npos) << py;
  EXPECT_NE(py.find("body: 'no newline\\n'\n"), std::string::npos) << py;
  EXPECT_NE(py.find("header: Subject: new\nbody: 'new\\n'\n"), std::string::npos) << py;
}

TEST(MboxWriterTest, RefusesHeaderInjectionSymlinksAndDirectories) {
  TempDir dir;
  const std::string path = dir.sub("mbox");
  const std::vector<std::string> injected = {"Delivered-To: a\nFrom evil"};
  EXPECT_EQ(append(path, "a@b", {"x\r\n"}, injected).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(path));

  std::ofstream(dir.sub("target")) << "";
  ASSERT_EQ(::symlink(dir.sub("target").c_str(), dir.sub("link").c_str()), 0);
  const Status link = append(dir.sub("link"), "a@b", {"x\r\n"});
  EXPECT_EQ(link.code(), StatusCode::kIoError) << link.to_string();  // ELOOP
  EXPECT_EQ(std::filesystem::file_size(dir.sub("target")), 0u);

  ASSERT_EQ(::mkdir(dir.sub("adir").c_str(), 0700), 0);
  EXPECT_FALSE(append(dir.sub("adir"), "a@b", {"x\r\n"}).ok());
  EXPECT_FALSE(std::filesystem::exists(dir.sub("adir.lock")));
}

// Large bodies (several write() calls each) from threads and processes into one mbox: every
// message must come back whole. Threads are run once with the dotlock and once with only
// the fcntl lock, which must exclude threads of one process on its own.
TEST(MboxWriterTest, ConcurrentAppendsDoNotInterleave) {
  constexpr int kThreads = 3;
  constexpr int kProcesses = 2;
  constexpr int kEach = 6;
  TempDir dir;
  const std::string path = dir.sub("mbox");
  auto writer = [&](const std::string& who, bool dotlock) {
    MboxOptions options;
    options.dotlock = dotlock;
    options.lock_wait_ms = 60000;
    int failures = 0;
    for (int i = 0; i < kEach; ++i) {
      const std::string id = who + "-" + std::to_string(i);
      std::string body = "X-Id: " + id + "\r\n\r\n";
      for (int line = 0; line < 20000; ++line) {
        body += "line of " + id + "\r\n";
      }
      const std::vector<std::string_view> pieces = {std::string_view(body).substr(0, 1000),
                                                    std::string_view(body).substr(1000)};
      failures += append(path, "a@b", pieces, {}, options).ok() ? 0 : 1;
    }
    return failures;
  };
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::_exit(writer("p" + std::to_string(p), true));
    }
    children.push_back(pid);
  }
  std::vector<std::thread> threads;
  std::vector<int> failures(2 * kThreads, 0);
  for (int t = 0; t < 2 * kThreads; ++t) {
    threads.emplace_back([&, t] { failures[t] = writer("t" + std::to_string(t), t < kThreads); });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  for (pid_t pid : children) {
    int wstatus = 0;
    ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
    EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  }
  for (int f : failures) {
    EXPECT_EQ(f, 0);
  }
  const int total = (2 * kThreads + kProcesses) * kEach;
  EXPECT_EQ(run_python(dir, kCheckMbox, path), "count: " + std::to_string(total) + " distinct: " +
                                                   std::to_string(total) + " bad: 0\n");
}

TEST(MboxWriterTest, HeldDotlockTimesOutAndStaleOneIsRemoved) {
  TempDir dir;
  const std::string path = dir.sub("mbox");
  const std::string lock = path + ".lock";
  std::ofstream(lock) << "12345\n";
  MboxOptions options;
  options.lock_wait_ms = 200;
  const auto start = std::chrono::steady_clock::now();
  const Status held = append(path, "a@b", {"x\r\n"}, {}, options);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(held.code(), StatusCode::kUnavailable) << held.to_string();
  EXPECT_GE(waited, std::chrono::milliseconds(190));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(lock));  // someone else's lock stays

  const timespec old[2] = {{::time(nullptr) - 600, 0}, {::time(nullptr) - 600, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, lock.c_str(), old, 0), 0);
  ASSERT_TRUE(append(path, "a@b", {"x\r\n"}, {}, options).ok());
  EXPECT_FALSE(std::filesystem::exists(lock));
}

// Another program holding a classic POSIX lock (as procmail or mutt would) blocks the append
// until the wait runs out.
TEST(MboxWriterTest, FcntlLockOfAnotherProcessTimesOut) {
  TempDir dir;
  const std::string path = dir.sub("mbox");
  std::ofstream(path) << "";
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(path.c_str(), O_RDWR);
    struct flock fl;
    std::memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    const char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &fl) == 0) ? 'y' : 'n';
    char ignored = 0;
    if (::write(ready[1], &ok, 1) != 1 || ::read(release[0], &ignored, 1) < 0) {
      ::_exit(2);
    }
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  MboxOptions options;
  options.dotlock = false;
  options.lock_wait_ms = 200;
  const Status locked = append(path, "a@b", {"x\r\n"}, {}, options);
  EXPECT_EQ(locked.code(), StatusCode::kUnavailable) << locked.to_string();
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) {
    ::close(fd);
  }
  EXPECT_EQ(std::filesystem::file_size(path), 0u);
  EXPECT_TRUE(append(path, "a@b", {"x\r\n"}, {}, options).ok());
}

// A write that fails half-way (the file size limit stands in for a full disk): the error
// comes back and the mbox is cut back to its previous size, still one readable message.
TEST(MboxWriterTest, FailedWriteTruncatesBack) {
  TempDir dir;
  const std::string path = dir.sub("mbox");
  ASSERT_TRUE(append(path, "a@b", {"Subject: kept\r\n\r\nkept\r\n"}).ok());
  const std::string before = read_file(path);
  const std::string big = "Subject: big\r\n\r\n" + std::string(200 * 1024, 'x') + "\r\n";
  const int code = in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{before.size() + 4096, before.size() + 4096};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) {
      return 99;
    }
    const Status s = append(path, "a@b", {big});
    return s.ok() ? 0 : static_cast<int>(s.code());
  });
  EXPECT_EQ(code, static_cast<int>(StatusCode::kIoError));  // EFBIG
  EXPECT_EQ(read_file(path), before);
  EXPECT_FALSE(std::filesystem::exists(path + ".lock"));
  EXPECT_EQ(run_python(dir, kReadMbox, path),
            "count: 1\nfrom: a@b Tue Nov 14 22:13:20 2023\nheader: Subject: kept\n"
            "body: 'kept\\n'\n");
}

// A directory the writer may not write to: the dotlock cannot be made, nothing is created.
// Root ignores permissions, so the child drops to "nobody" first when it runs as root.
TEST(MboxWriterTest, ReadOnlyDirectoryFails) {
  TempDir dir;
  ASSERT_EQ(::mkdir(dir.sub("ro").c_str(), 0555), 0);
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(dir.sub("ro").c_str(), 0555), 0);
  const std::string path = dir.sub("ro/mbox");
  const int code = in_child([&] {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      return 99;
    }
    const Status s = append(path, "a@b", {"x\r\n"});
    return s.ok() ? 0 : static_cast<int>(s.code());
  });
  if (code == 99) {
    GTEST_SKIP() << "cannot drop root privileges here";
  }
  EXPECT_EQ(code, static_cast<int>(StatusCode::kIoError));
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".lock"));
}

}  // namespace
}  // namespace rm
