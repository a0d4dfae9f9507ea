// tests/fuzz/replay_main.cpp — runs a fuzz harness over files without libFuzzer, so builds
// with any compiler (and the sanitizer builds of scripts/test.sh) replay every seed and every
// saved crash input in tests/fuzz/<harness>/ as a regression test:
//   fuzz_manifest_replay tests/fuzz/manifest [more files or directories]
// Exits 0 when every input ran and every seed named ok-* was accepted by the reader (the
// harness sets fuzz::input_accepted); 1 when an ok-* seed was refused; 2 when a path does not
// exist or a directory holds no ok-* seed (a replay that checks nothing is not a pass). A
// harness property violation aborts as under libFuzzer.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  auto must_accept = [](const fs::path& f) { return f.filename().string().rfind("ok-", 0) == 0; };
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    const fs::file_status st = fs::status(argv[i], ec);
    if (fs::is_directory(st)) {
      size_t ok_seeds = 0;
      for (const auto& e : fs::directory_iterator(argv[i]))
        if (e.is_regular_file()) {
          files.push_back(e.path());
          ok_seeds += must_accept(e.path());
        }
      if (ok_seeds == 0) {
        std::fprintf(stderr, "%s: no ok-* seed (an input the reader must accept) in this corpus\n", argv[i]);
        return 2;
      }
    } else if (fs::is_regular_file(st)) {
      files.push_back(argv[i]);
    } else {
      std::fprintf(stderr, "%s: no such file or directory\n", argv[i]);
      return 2;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...  (no inputs found)\n", argv[0]);
    return 2;
  }
  size_t accepted = 0, refused_ok = 0;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    cairn::fuzz::input_accepted = false;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    accepted += cairn::fuzz::input_accepted;
    if (must_accept(f) && !cairn::fuzz::input_accepted) {
      std::fprintf(stderr, "%s: refused, but a seed named ok-* must be accepted\n", f.c_str());
      ++refused_ok;
    }
  }
  std::printf("replayed %zu inputs, %zu accepted\n", files.size(), accepted);
  return refused_ok == 0 ? 0 : 1;
}
