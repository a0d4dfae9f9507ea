// tests/comm/single_rank_routing_test.cpp — at one rank the canonical reduce-scatter and the
// parameter all-gather (comm/reduce.h) skip the Comm only when it allows it: the host Comm
// does (a copy, no collective: CPU speed unchanged), NCCL does not, so that a one-GPU run
// goes through the same all-to-all (send/recv to itself) and in-place all-gather as W > 1.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "comm/reduce.h"
#include "core/sharding.h"

namespace cairn {
namespace {

// One rank; records the data collectives that reach it and performs them like the local Comm.
class RecordingComm final : public Comm {
 public:
  explicit RecordingComm(bool skips) : skips_(skips), inner_(make_local_comm()) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return skips_ ? "local-like" : "nccl-like"; }
  bool skips_single_rank_collectives() const override { return skips_; }
  void barrier() override {}
  void broadcast(void* d, size_t b, int root) override { inner_->broadcast(d, b, root); }
  void allgather(const void* s, void* r, size_t b) override { inner_->allgather(s, r, b); }
  void allgatherv(const float* s, float* r, const std::vector<int64_t>& c, const std::vector<int64_t>& d) override {
    ++allgathers;
    gather_in_place = s == r + d[0];
    gather_counts = c;
    inner_->allgatherv(s, r, c, d);
  }
  void allgatherv_bytes(const void* s, void* r, const std::vector<int64_t>& c,
                        const std::vector<int64_t>& d) override {
    inner_->allgatherv_bytes(s, r, c, d);
  }
  void alltoallv(const float* s, const std::vector<int64_t>& sc, const std::vector<int64_t>& sd, float* r,
                 const std::vector<int64_t>& rc, const std::vector<int64_t>& rd) override {
    ++alltoalls;
    a2a_send_counts = sc;
    inner_->alltoallv(s, sc, sd, r, rc, rd);
  }
  int64_t max_int(int64_t v) override { return v; }
  int64_t min_int(int64_t v) override { return v; }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

  int alltoalls = 0, allgathers = 0;
  bool gather_in_place = false;
  std::vector<int64_t> a2a_send_counts, gather_counts;

 private:
  bool skips_;
  std::unique_ptr<Comm> inner_;
};

TEST(SingleRank, NcclLikeCommCarriesTheReduceScatterAndTheAllGather) {
  const int64_t total = 3 * kChunkFloats;  // flat buffers are padded to whole chunks
  std::vector<float> block(static_cast<size_t>(total)), owned(static_cast<size_t>(total), -1.0f);
  std::iota(block.begin(), block.end(), 0.5f);
  std::vector<float> scratch;
  RecordingComm nccl(/*skips=*/false);
  reduce_scatter_canonical(nccl, block.data(), total, owned.data(), scratch);
  EXPECT_EQ(nccl.alltoalls, 1);
  EXPECT_EQ(nccl.a2a_send_counts, std::vector<int64_t>{total});
  EXPECT_EQ(scratch.size(), size_t(total));
  EXPECT_EQ(owned, block);

  allgather_owned(nccl, owned.data(), total);
  EXPECT_EQ(nccl.allgathers, 1);
  EXPECT_TRUE(nccl.gather_in_place);
  EXPECT_EQ(nccl.gather_counts, std::vector<int64_t>{total});
  EXPECT_EQ(owned, block);
}

TEST(SingleRank, HostCommKeepsItsShortcut) {
  const int64_t total = 2 * kChunkFloats;
  std::vector<float> block(static_cast<size_t>(total), 2.0f), owned(static_cast<size_t>(total), 0.0f);
  std::vector<float> scratch;
  RecordingComm host(/*skips=*/true);
  reduce_scatter_canonical(host, block.data(), total, owned.data(), scratch);
  allgather_owned(host, owned.data(), total);
  EXPECT_EQ(host.alltoalls, 0);
  EXPECT_EQ(host.allgathers, 0);
  EXPECT_EQ(owned, block);
  EXPECT_TRUE(make_local_comm()->skips_single_rank_collectives());
}

}  // namespace
}  // namespace cairn
