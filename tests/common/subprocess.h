// Test helpers shared by the suites: run a shell command and take its output (a test
// failure when it exits non-zero), read a whole file.
// Thread-safety: test-thread helpers.
#pragma once

#include <gtest/gtest.h>
#include <stdio.h>

#include <fstream>
#include <sstream>
#include <string>

namespace rm::test {

// Runs `command` through the shell (stderr joined to stdout); returns what it printed.
inline std::string run_command(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed: " << command;
    return "";
  }
  std::string out;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) {
    out.append(buf, n);
  }
  EXPECT_EQ(::pclose(pipe), 0) << command << "\n" << out;
  return out;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace rm::test
