// tests/comm/votes_comm_test.cpp — make_votes_comm: integer votes (max_int, min_int, hence
// all_agree/any, and barrier) go over the votes Comm (NCCL on a GPU run), everything else
// over the host Comm, so checkpoint commits and the stop agreement run the same code on
// both devices.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "comm/comm.h"
#include "comm/votes_comm.h"

namespace cairn {
namespace {

// A single-rank Comm that counts what reaches it.
class CountingComm final : public Comm {
 public:
  explicit CountingComm(std::string name) : name_(std::move(name)), inner_(make_local_comm()) {}
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return name_; }
  void barrier() override { ++votes; }
  void broadcast(void* d, size_t b, int root) override { ++data, inner_->broadcast(d, b, root); }
  void allgather(const void* s, void* r, size_t b) override { ++data, inner_->allgather(s, r, b); }
  void allgatherv(const float* s, float* r, const std::vector<int64_t>& c, const std::vector<int64_t>& d) override {
    ++data, inner_->allgatherv(s, r, c, d);
  }
  void allgatherv_bytes(const void* s, void* r, const std::vector<int64_t>& c,
                        const std::vector<int64_t>& d) override {
    ++data, inner_->allgatherv_bytes(s, r, c, d);
  }
  void alltoallv(const float* s, const std::vector<int64_t>& sc, const std::vector<int64_t>& sd, float* r,
                 const std::vector<int64_t>& rc, const std::vector<int64_t>& rd) override {
    ++data, inner_->alltoallv(s, sc, sd, r, rc, rd);
  }
  int64_t max_int(int64_t v) override { return ++votes, v; }
  int64_t min_int(int64_t v) override { return ++votes, v; }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
  int votes = 0, data = 0;

 private:
  std::string name_;
  std::unique_ptr<Comm> inner_;
};

TEST(VotesComm, VotesGoOverTheVotesCommTheRestOverTheHost) {
  CountingComm host("mpi"), votes("nccl");
  std::unique_ptr<Comm> c = make_votes_comm(host, votes);
  EXPECT_EQ(c->backend(), "mpi (votes over nccl)");
  EXPECT_TRUE(c->all_agree(true));
  EXPECT_FALSE(c->any(false));
  EXPECT_EQ(c->max_int(7), 7);
  c->barrier();
  EXPECT_EQ(votes.votes, 4);
  EXPECT_EQ(host.votes, 0);

  double x = 1.5, y = 0;
  c->allgather(&x, &y, sizeof x);
  EXPECT_EQ(y, 1.5);
  char s[4] = "abc";
  c->broadcast(s, sizeof s, 0);
  EXPECT_EQ(host.data, 2);
  EXPECT_EQ(votes.data, 0);
}

}  // namespace
}  // namespace cairn
