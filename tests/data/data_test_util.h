// tests/data/data_test_util.h — helpers shared by the data tests: a fresh temp directory per
// test, raw file writing for corrupt-file cases, and an expect-error-containing matcher.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/error.h"

namespace cairn::test {

// A directory unique to the running test, removed when the test ends.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           cairn::str("cairn_data_", info->test_suite_name(), "_", info->name(), "_", ::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

inline void write_bytes(const std::string& path, const void* data, size_t n) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(static_cast<const char*>(data), std::streamsize(n));
}

inline void write_text(const std::string& path, const std::string& text) {
  write_bytes(path, text.data(), text.size());
}

inline std::vector<uint16_t> iota_tokens(int64_t n, uint16_t start = 0, int modulo = 65536) {
  std::vector<uint16_t> t(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) t[size_t(i)] = uint16_t((start + i) % modulo);
  return t;
}

// Runs fn, expects a cairn::Error whose message contains every one of `parts`.
template <typename Fn>
::testing::AssertionResult throws_error_with(Fn&& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const cairn::Error& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) {
      if (msg.find(p) == std::string::npos) {
        return ::testing::AssertionFailure() << "error \"" << msg << "\" lacks \"" << p << "\"";
      }
    }
    if (msg.find('\n') != std::string::npos) {
      return ::testing::AssertionFailure() << "error \"" << msg << "\" is not one line";
    }
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no cairn::Error thrown";
}

}  // namespace cairn::test
