// tests/checkpoint/test_bitflip.cpp — "never a silent wrong resume", exhaustively for small
// damage: one bit flipped in a committed checkpoint's metadata (manifest.json and each
// shard's safetensors header: every 7th byte, the flipped bit cycling through all eight;
// the every-byte sweep was run once by hand, see docs/reliability.md),
// or in a sample of its data, either
// makes the resume path refuse the checkpoint with cairn::Error (so --resume auto falls back
// to the previous one) or changes nothing that a resume loads (step, layout, and the three
// buffers bit for bit). The resume path is what the trainer runs: open_checkpoint with
// checksum verification, check_layout_matches against the model, read_flat_range.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "checkpoint/reader.h"
#include "checkpoint/run_dir.h"
#include "core/parallel.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

enum class Outcome { kRefused, kSame, kDifferent };

// What a resume of `dir` would do with it.
Outcome resume_outcome(const std::string& dir, const TestModel& m, int64_t step) {
  try {
    Checkpoint c = open_checkpoint(dir, /*verify_checksums=*/true);
    check_layout_matches(c, m.layout);
    if (c.step() != step) return Outcome::kDifferent;
    std::vector<float> got(size_t(m.layout.total));
    for (const char* b : {"params", "adam_m", "adam_v"}) {
      read_flat_range(c, b, 0, m.layout.total, got.data());
      if (std::memcmp(got.data(), m.buffer(b).data(), got.size() * sizeof(float)) != 0) return Outcome::kDifferent;
    }
    return Outcome::kSame;
  } catch (const Error&) {
    return Outcome::kRefused;
  }
}

struct Tally {
  int refused = 0, same = 0;
};

// Flips bit (i % 8) of every stride-th byte i in [begin, end) of `path`, one at a time,
// restoring the file after each; fails the test on any silent difference. A stride coprime
// with 8 visits every bit position.
Tally sweep(const std::string& dir, const std::string& path, size_t begin, size_t end, size_t stride,
            const TestModel& m, int64_t step) {
  const std::string original = read_text(path);
  Tally t;
  for (size_t i = begin; i < end && i < original.size(); i += stride) {
    std::string damaged = original;
    damaged[i] = char(damaged[i] ^ (1 << (i % 8)));
    write_text(path, damaged);
    switch (resume_outcome(dir, m, step)) {
      case Outcome::kRefused: ++t.refused; break;
      case Outcome::kSame: ++t.same; break;
      case Outcome::kDifferent:
        ADD_FAILURE() << path << ": flipping bit " << i % 8 << " of byte " << i << " ('" << original[i]
                      << "') was accepted and changed what a resume loads";
        break;
    }
  }
  write_text(path, original);
  return t;
}

uint64_t header_bytes(const std::string& path) {
  const std::string s = read_text(path);
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | uint8_t(s[size_t(k)]);
  return 8 + n;
}

TEST(BitFlip, EveryMetadataBitFlipIsRefusedOrHarmless) {
  TempDir run;
  TestModel m;
  const int saved_threads = num_threads();
  set_num_threads(1);  // thousands of tiny opens: thread start-up would dominate
  ASSERT_TRUE(save_simulated(run.path, 5, 2, m).ok);
  const std::string dir = step_dir(run.path, 5);
  ASSERT_EQ(resume_outcome(dir, m, 5), Outcome::kSame);

  const std::string manifest = dir + "/manifest.json";
  Tally tm = sweep(dir, manifest, 0, read_text(manifest).size(), 7, m, 5);
  EXPECT_GT(tm.refused, 0);
  for (int r = 0; r < 2; ++r) {
    const std::string shard = dir + "/" + shard_file_name(r, 2);
    Tally th = sweep(dir, shard, 0, header_bytes(shard), 7, m, 5);
    EXPECT_GT(th.refused, 0) << shard;
    // The data section: every 1001st byte (pieces, and U8 padding between them, which no
    // reader uses, so a flip there is harmless).
    Tally td = sweep(dir, shard, header_bytes(shard), read_text(shard).size(), 1001, m, 5);
    EXPECT_GT(td.refused, 0) << shard;
  }
  EXPECT_EQ(resume_outcome(dir, m, 5), Outcome::kSame) << "the sweep did not restore the files";
  set_num_threads(saved_threads);
}

}  // namespace
}  // namespace cairn::ckpt::test
