// tests/checkpoint/test_verify_reads.cpp — checksums verified while reading (resume): a
// rank's read checks every piece it reads whole; verify_partial_pieces() checks the pieces
// its owned range cuts, so that over all ranks every piece of a checkpoint is verified
// whatever the new world size.
#include <gtest/gtest.h>

#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

TEST(VerifyReads, PiecesCutByTheRangeAreCheckedByVerifyPartialPieces) {
  TempDir run;
  TestModel m;
  auto comm = make_local_comm();
  SaveStats s = save_checkpoint(*comm, run.path, 3, m.layout, m.slices(0, 1), TestModel::state(3), keep(2));
  ASSERT_TRUE(s.ok) << s.error;
  Checkpoint c = open_checkpoint(s.dir, false);
  const PieceRecord* big = nullptr;  // params/h.0.attn.c_attn.weight: 97 x 91 floats
  for (const PieceRecord& p : c.manifest.shards[0].pieces)
    if (p.buffer == "params" && (!big || p.end - p.begin > big->end - big->begin)) big = &p;
  ASSERT_NE(big, nullptr);
  const int64_t mid = (big->begin + big->end) / 2;
  const std::string path = s.dir + "/" + c.manifest.shards[0].file;
  std::string bytes = read_text(path);
  bytes[size_t(big->offset + 4 * (mid - big->begin) + 2)] ^= 0x10;  // inside the second half
  write_text(path, bytes);

  Checkpoint r = open_checkpoint(s.dir, false);
  r.verify_reads = true;
  std::vector<float> first_half(size_t(mid - big->begin));
  read_flat_range(r, "params", big->begin, mid, first_half.data());  // intact, and the piece is cut: no check
  verify_partial_pieces(r, "params", 0, big->begin);                  // does not touch the piece
  EXPECT_ERROR_WITH(verify_partial_pieces(r, "params", big->begin, mid), "checksum mismatch in piece " + big->name);
  std::vector<float> whole(size_t(big->end - big->begin));
  EXPECT_ERROR_WITH(read_flat_range(r, "params", big->begin, big->end, whole.data()),
                    "checksum mismatch in piece " + big->name);
}

}  // namespace
}  // namespace cairn::ckpt::test
