// comm/votes_comm.cpp — see votes_comm.h.
#include "comm/votes_comm.h"

#include <cstdlib>

#include "core/error.h"

namespace cairn {
namespace {

class VotesComm final : public Comm {
 public:
  VotesComm(Comm& host, Comm& votes) : host_(host), votes_(votes) {
    CAIRN_CHECK(host.rank() == votes.rank() && host.size() == votes.size(),
                "make_votes_comm: the two communicators disagree (rank ", host.rank(), "/", host.size(), " vs ",
                votes.rank(), "/", votes.size(), ")");
  }
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  std::string backend() const override { return host_.backend() + " (votes over " + votes_.backend() + ")"; }

  void barrier() override { votes_.barrier(); }
  void broadcast(void* data, size_t bytes, int root) override { host_.broadcast(data, bytes, root); }
  void allgather(const void* send, void* recv, size_t bytes) override { host_.allgather(send, recv, bytes); }
  void allgatherv(const float* send, float* recv, const std::vector<int64_t>& counts,
                  const std::vector<int64_t>& displs) override {
    host_.allgatherv(send, recv, counts, displs);
  }
  void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                        const std::vector<int64_t>& displs) override {
    host_.allgatherv_bytes(send, recv, counts, displs);
  }
  void gatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                     const std::vector<int64_t>& displs, int root) override {
    host_.gatherv_bytes(send, recv, counts, displs, root);
  }
  void alltoallv(const float* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 float* recv, const std::vector<int64_t>& recv_counts,
                 const std::vector<int64_t>& recv_displs) override {
    host_.alltoallv(send, send_counts, send_displs, recv, recv_counts, recv_displs);
  }
  int64_t max_int(int64_t v) override { return votes_.max_int(v); }
  int64_t min_int(int64_t v) override { return votes_.min_int(v); }
  [[noreturn]] void abort(int code) override {
    votes_.abort(code);
    std::_Exit(code);  // not reached: abort does not return
  }

 private:
  Comm& host_;
  Comm& votes_;
};

}  // namespace

std::unique_ptr<Comm> make_votes_comm(Comm& host, Comm& votes) { return std::make_unique<VotesComm>(host, votes); }

}  // namespace cairn
