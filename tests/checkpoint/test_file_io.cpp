// tests/checkpoint/test_file_io.cpp — the I/O paths scripts/bench/disk_io.sh chose:
//   - FileWriter's streamed write-back (sync_file_range + DONTNEED per window) writes exactly
//     the bytes given, through small, buffer-sized and huge writes and a header overwrite,
//     whatever the window (several windows in flight, none, off); so does the direct mode
//     (O_DIRECT from an aligned buffer, tail and overwrite buffered), also on tmpfs, where
//     O_DIRECT may be refused and it falls back;
//   - read_flat_range cuts a piece larger than one read block (16 MiB) into blocks read on
//     several threads: the floats come back exactly, and a flipped bit in a later block of
//     the piece is still caught by the checksum.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "checkpoint/file_io.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

std::string pattern(int64_t n, uint32_t seed) {
  std::string s(size_t(n), '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = char(x >> 24);
  }
  return s;
}

// Writes sizes that straddle the 16 MiB buffer and the windows (tiny, odd, one buffer, over a
// buffer), zeros and a header overwrite through every window setting; checks the bytes.
void check_writer(const std::string& dir, FileWriter::Mode mode) {
  const std::vector<int64_t> sizes = {5, 4096, 70001, FileWriter::kWriteBufferBytes, 3, FileWriter::kWriteBufferBytes + 12345,
                                      1 << 20, 17};
  int64_t total = 0;
  for (int64_t n : sizes) total += n;
  const std::string data = pattern(total, 7);
  for (int64_t window : {int64_t(0), int64_t(64) << 10, int64_t(1) << 20, FileWriter::kWritebackWindow}) {
    const std::string path = dir + "/f" + std::to_string(window);
    FileWriter w(path, window, mode);
    int64_t pos = 0;
    for (int64_t n : sizes) {
      w.write(data.data() + pos, n);
      pos += n;
    }
    w.write_zeros(100);
    const std::string header = "HEADER!";
    w.overwrite(1, header.data(), int64_t(header.size()));  // over bytes possibly written back already
    EXPECT_EQ(w.bytes_written(), total + 100);
    w.close();
    std::string want = data + std::string(100, '\0');
    want.replace(1, header.size(), header);
    EXPECT_TRUE(read_text(path) == want) << "window " << window;
    std::remove(path.c_str());
  }
}

TEST(FileWriter, StreamedAndDirectWritesWriteExactlyTheBytes) {
  TempDir disk;
  for (FileWriter::Mode mode : {FileWriter::kStreamed, FileWriter::kDirect}) {
    SCOPED_TRACE(mode == FileWriter::kDirect ? "direct" : "streamed");
    check_writer(disk.path, mode);
  }
  // tmpfs: O_DIRECT refused by older kernels (the writer falls back), taken by newer ones.
  char shm[] = "/dev/shm/cairn-file-io-XXXXXX";
  if (::mkdtemp(shm) == nullptr) GTEST_SKIP() << "no /dev/shm here";
  check_writer(shm, FileWriter::kDirect);
  ::rmdir(shm);
}

// One tensor of 5,000,003 floats (20 MB: two 16 MiB read blocks) plus a small one.
Layout big_layout() {
  Layout l;
  TensorInfo a;
  a.name = "wte.weight";
  a.shape = {5000003};
  a.numel = 5000003;
  a.offset = 0;
  TensorInfo b;
  b.name = "ln_f.weight";
  b.shape = {97};
  b.numel = 97;
  b.offset = 5000016;
  l.tensors = {a, b};
  l.total = (b.offset + b.numel + kChunkFloats - 1) / kChunkFloats * kChunkFloats;
  return l;
}

TEST(ReadFlatRange, PieceLargerThanAReadBlockRoundTripsAndIsVerified) {
  TempDir run;
  const Layout layout = big_layout();
  std::vector<std::vector<float>> buffers(3, std::vector<float>(size_t(layout.total)));
  for (size_t b = 0; b < 3; ++b)
    for (int64_t i = 0; i < layout.total; ++i) buffers[b][size_t(i)] = float(i % 1000003) * 0.5f + float(b);
  std::vector<OwnedSlice> slices;
  const char* names[] = {"params", "adam_m", "adam_v"};
  for (size_t b = 0; b < 3; ++b) slices.push_back({names[b], buffers[b].data(), 0, layout.total});
  auto comm = make_local_comm();
  SaveStats s = save_checkpoint(*comm, run.path, 1, layout, slices, TestModel::state(1), keep(2));
  ASSERT_TRUE(s.ok) << s.error;

  Checkpoint c = open_checkpoint(s.dir, false);
  c.verify_reads = true;
  for (size_t b = 0; b < 3; ++b) {
    std::vector<float> got(size_t(layout.total), -1.0f);
    read_flat_range(c, names[b], 0, layout.total, got.data());
    EXPECT_TRUE(std::memcmp(got.data(), buffers[b].data(), sizeof(float) * got.size()) == 0) << names[b];
  }
  // A part crossing the block boundary inside the big piece, unverified (cut piece).
  std::vector<float> part(3000000);
  read_flat_range(c, "adam_m", 2000000, 5000000, part.data());
  EXPECT_TRUE(std::memcmp(part.data(), buffers[1].data() + 2000000, sizeof(float) * part.size()) == 0);

  // Flip a bit in the second block of params/wte.weight: the whole-piece read must fail.
  const PieceRecord* wte = nullptr;
  for (const PieceRecord& p : c.manifest.shards[0].pieces)
    if (p.buffer == "params" && p.name.find("wte.weight") != std::string::npos) wte = &p;
  ASSERT_NE(wte, nullptr);
  const std::string path = s.dir + "/" + c.manifest.shards[0].file;
  std::string bytes = read_text(path);
  bytes[size_t(wte->offset + 4 * 4500000 + 1)] ^= 0x04;
  write_text(path, bytes);
  Checkpoint r = open_checkpoint(s.dir, false);
  r.verify_reads = true;
  std::vector<float> got(size_t(layout.total));
  EXPECT_ERROR_WITH(read_flat_range(r, "params", 0, layout.total, got.data()),
                    "checksum mismatch in piece " + wte->name);
}

}  // namespace
}  // namespace cairn::ckpt::test
