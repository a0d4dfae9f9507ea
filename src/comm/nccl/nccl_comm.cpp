// comm/nccl/nccl_comm.cpp — the Comm interface over NCCL, for *device* buffers.
//
// Bootstrap: rank 0 of the bootstrap Comm (MPI, or the local one at world size 1) creates the
// ncclUniqueId and broadcasts it; the GPU is the one cuda_ops() bound this process to (the
// node-local rank mod visible devices, kernels/cuda/runtime.cpp), so the communicator and the
// kernels always share a device. Collectives run on NCCL's own stream, which first waits for
// the work already queued on the kernels' stream (an event), and are synchronous from the
// caller's point of view (the stream is synchronized before returning), matching the MPI
// backend: a buffer written by a kernel is sent as written, and a received one is complete
// before any later kernel reads it.
//  * allgatherv: ncclAllGather when the blocks are equal and back to back (the parameter
//    all-gather whenever W divides the number of chunks), else a group of ncclBroadcast
//    calls, one per root (NCCL has no v-collective);
//  * alltoallv: grouped ncclSend/ncclRecv, the transport of the canonical reduce-scatter (one
//    call per round: one round per partial sum a rank sends, comm/reduce.h);
//  * max_int/min_int: ncclAllReduce on one int64 (integers: exact in any order).
// Float sums are never delegated to NCCL (see comm/reduce.h).
#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>

#include "comm/nccl/nccl_comm.h"
#include "core/error.h"
#include "kernels/cuda/context.h"  // CUDA_CHECK, NCCL_CHECK, the kernels' stream()
#include "kernels/ops.h"

namespace cairn {
namespace {

class NcclComm final : public Comm {
 public:
  explicit NcclComm(Comm& bootstrap) : bootstrap_(bootstrap), rank_(bootstrap.rank()), size_(bootstrap.size()) {
    cuda_ops();  // throws a clear error without a usable GPU; binds this process's device
    ncclUniqueId id;
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    bootstrap_.broadcast(&id, sizeof id, 0);
    NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreateWithFlags(&kernels_done_, cudaEventDisableTiming));
    CUDA_CHECK(cudaMalloc(&scratch_, sizeof(int64_t)));
  }
  ~NcclComm() override {
    cudaFree(scratch_);
    cudaEventDestroy(kernels_done_);
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }

  void barrier() override { max_int(0); }
  void broadcast(void* data, size_t bytes, int root) override {
    after_kernels();
    NCCL_CHECK(ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_));
    sync();
  }
  void allgather(const void* send, void* recv, size_t bytes) override {
    after_kernels();
    NCCL_CHECK(ncclAllGather(send, recv, bytes, ncclUint8, comm_, stream_));
    sync();
  }
  void allgatherv(const float* send, float* recv, const std::vector<int64_t>& counts,
                  const std::vector<int64_t>& displs) override {
    std::vector<int64_t> c(counts), d(displs);
    for (auto& x : c) x *= sizeof(float);
    for (auto& x : d) x *= sizeof(float);
    allgatherv_bytes(send, recv, c, d);
  }
  void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                        const std::vector<int64_t>& displs) override {
    after_kernels();
    char* out = static_cast<char*>(recv);
    bool regular = true;  // equal blocks back to back: one ncclAllGather (in place if send is block rank_)
    for (int r = 0; r < size_; ++r) regular &= counts[r] == counts[0] && displs[r] == int64_t(r) * counts[0];
    if (regular) {
      NCCL_CHECK(ncclAllGather(send, recv, size_t(counts[0]), ncclUint8, comm_, stream_));
      sync();
      return;
    }
    NCCL_CHECK(ncclGroupStart());
    for (int r = 0; r < size_; ++r)
      NCCL_CHECK(ncclBroadcast(r == rank_ ? send : out + displs[r], out + displs[r], size_t(counts[r]), ncclUint8, r,
                               comm_, stream_));
    NCCL_CHECK(ncclGroupEnd());
    sync();
  }
  void alltoallv(const float* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 float* recv, const std::vector<int64_t>& recv_counts,
                 const std::vector<int64_t>& recv_displs) override {
    after_kernels();
    NCCL_CHECK(ncclGroupStart());
    // An empty block is skipped on both sides alike (the sender's count for r is zero exactly
    // when r expects nothing from it): the canonical reduce-scatter's later rounds carry only
    // the ranks that have that many partials.
    for (int r = 0; r < size_; ++r) {
      if (send_counts[r] > 0)
        NCCL_CHECK(ncclSend(send + send_displs[r], size_t(send_counts[r]), ncclFloat32, r, comm_, stream_));
      if (recv_counts[r] > 0)
        NCCL_CHECK(ncclRecv(recv + recv_displs[r], size_t(recv_counts[r]), ncclFloat32, r, comm_, stream_));
    }
    NCCL_CHECK(ncclGroupEnd());
    sync();
  }
  int64_t max_int(int64_t v) override { return reduce_int(v, ncclMax); }
  int64_t min_int(int64_t v) override { return reduce_int(v, ncclMin); }
  [[noreturn]] void abort(int code) override {
    ncclCommAbort(comm_);
    bootstrap_.abort(code);
    std::_Exit(code);  // not reached: the bootstrap's abort does not return
  }

 private:
  // NCCL's stream waits for everything already queued on the kernels' stream.
  void after_kernels() {
    CUDA_CHECK(cudaEventRecord(kernels_done_, cuda::stream()));
    CUDA_CHECK(cudaStreamWaitEvent(stream_, kernels_done_, 0));
  }
  void sync() { CUDA_CHECK(cudaStreamSynchronize(stream_)); }
  int64_t reduce_int(int64_t v, ncclRedOp_t op) {
    CUDA_CHECK(cudaMemcpyAsync(scratch_, &v, sizeof v, cudaMemcpyHostToDevice, stream_));
    NCCL_CHECK(ncclAllReduce(scratch_, scratch_, 1, ncclInt64, op, comm_, stream_));
    CUDA_CHECK(cudaMemcpyAsync(&v, scratch_, sizeof v, cudaMemcpyDeviceToHost, stream_));
    sync();
    return v;
  }

  Comm& bootstrap_;
  int rank_, size_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t kernels_done_ = nullptr;
  int64_t* scratch_ = nullptr;
};

}  // namespace

bool nccl_is_available() { return true; }
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap) { return std::make_unique<NcclComm>(bootstrap); }

}  // namespace cairn
