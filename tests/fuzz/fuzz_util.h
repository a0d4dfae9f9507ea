// tests/fuzz/fuzz_util.h — shared pieces of the libFuzzer harnesses (see tests/fuzz/README.md).
//
// MemFile: the readers under test take a path, so each input is written to one memfd (an
// in-memory file, no disk I/O) and opened as /proc/self/fd/N. FUZZ_ASSERT: a property that
// must hold for every input the reader accepts; a violation aborts, which libFuzzer reports
// as a crash with the input saved.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_ASSERT(cond)                                                        \
  do {                                                                           \
    if (!(cond)) {                                                               \
      std::fprintf(stderr, "fuzz property violated: %s at %s:%d\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                              \
    }                                                                            \
  } while (0)

namespace cairn::fuzz {

// Set by a harness when its reader accepted the input. replay_main.cpp clears it before each
// input and requires it for every seed named ok-*, so a reader that refused everything (or a
// harness that never reached its properties) fails the replay. libFuzzer ignores it.
inline bool input_accepted = false;

class MemFile {
 public:
  MemFile() : fd_(::memfd_create("cairn-fuzz", MFD_CLOEXEC)) {
    FUZZ_ASSERT(fd_ >= 0);
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  // Replaces the content with data[0, size) and returns a path that opens it.
  const std::string& set(const uint8_t* data, size_t size) {
    FUZZ_ASSERT(::ftruncate(fd_, 0) == 0);
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pwrite(fd_, data + done, size - done, off_t(done));
      FUZZ_ASSERT(n > 0);
      done += size_t(n);
    }
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

}  // namespace cairn::fuzz
