// comm/nccl/nccl_comm.cpp — the Comm interface over NCCL, for *device* buffers.
//
// Bootstrap: rank 0 of the bootstrap Comm (MPI, or the local one at world size 1) creates the
// ncclUniqueId and broadcasts it; the GPU is the one cuda_ops() bound this process to (the
// node-local rank mod visible devices, kernels/cuda/runtime.cpp), so the communicator and the
// kernels always share a device. Collectives run on NCCL's own stream, which first waits for
// the work already queued on the kernels' stream (an event), and are synchronous from the
// caller's point of view (waited for before returning), matching the MPI backend: a buffer
// written by a kernel is sent as written, and a received one is complete before any later
// kernel reads it.
//
// Failures end the job instead of hanging it (comm/collective_wait.h): the wait polls the
// stream and ncclCommGetAsyncError with a deadline (run.comm_timeout_s; none during
// checkpoint saves and resume), and on an error or at the deadline aborts the communicator
// (ncclCommAbort) and throws one line naming the rank, the collective and the step. Groups
// are closed on every path (GroupGuard). The communicator is aborted rather than destroyed
// when it is torn down by an exception, since a destroy may wait for a peer that is gone.
// What the deadline cannot cover: NCCL's own blocking calls (communicator init; connection
// setup on the first collective between two peers) — a peer dead before then is brought
// down by the launcher (mpirun ends the job when a rank dies).
//
// At one rank every collective still runs through NCCL (skips_single_rank_collectives is
// false): the reduce-scatter's grouped send/recv to itself and the in-place ncclAllGather,
// so that a one-GPU machine tests the transport multi-GPU runs use.
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
#include <exception>

#include "comm/collective_wait.h"
#include "comm/nccl/nccl_backend.h"
#include "comm/nccl/nccl_comm.h"
#include "core/error.h"
#include "kernels/cuda/context.h"  // CUDA_CHECK, NCCL_CHECK, the kernels' stream()
#include "kernels/ops.h"

namespace cairn {
namespace {

class NcclComm final : public Comm {
 public:
  NcclComm(Comm& bootstrap, double timeout_s)
      : bootstrap_(bootstrap), rank_(bootstrap.rank()), size_(bootstrap.size()), timeout_s_(timeout_s) {
    cuda_ops();  // throws a clear error without a usable GPU; binds this process's device
    ncclUniqueId id;
    if (rank_ == 0) NCCL_CHECK(ncclGetUniqueId(&id));
    bootstrap_.broadcast(&id, sizeof id, 0);
    NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreateWithFlags(&kernels_done_, cudaEventDisableTiming));
    CUDA_CHECK(cudaMalloc(&scratch_, sizeof(int64_t)));
    // Pinned: a copy into pageable memory would block until the vote is done, out of the
    // wait's reach.
    CUDA_CHECK(cudaMallocHost(&vote_, sizeof(int64_t)));
  }
  ~NcclComm() override {
    if (comm_) {
      if (std::uncaught_exceptions() > 0)
        ncclCommAbort(comm_);
      else
        ncclCommDestroy(comm_);
    }
    cudaFreeHost(vote_);
    cudaFree(scratch_);
    cudaEventDestroy(kernels_done_);
    cudaStreamDestroy(stream_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  bool skips_single_rank_collectives() const override { return false; }

  void barrier() override { max_int(0); }
  void broadcast(void* data, size_t bytes, int root) override {
    after_kernels();
    call("broadcast", ncclBroadcast(data, data, bytes, ncclUint8, root, comm_, stream_));
    wait("broadcast");
  }
  void allgather(const void* send, void* recv, size_t bytes) override {
    after_kernels();
    call("allgather", ncclAllGather(send, recv, bytes, ncclUint8, comm_, stream_));
    wait("allgather");
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
      call("allgatherv", ncclAllGather(send, recv, size_t(counts[0]), ncclUint8, comm_, stream_));
      wait("allgatherv");
      return;
    }
    {
      GroupGuard group = open_group("allgatherv");
      for (int r = 0; r < size_; ++r)
        call("allgatherv", ncclBroadcast(r == rank_ ? send : out + displs[r], out + displs[r], size_t(counts[r]),
                                         ncclUint8, r, comm_, stream_));
      group.close();
    }
    wait("allgatherv");
  }
  void alltoallv(const float* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 float* recv, const std::vector<int64_t>& recv_counts,
                 const std::vector<int64_t>& recv_displs) override {
    after_kernels();
    {
      GroupGuard group = open_group("alltoallv");
      // An empty block is skipped on both sides alike (the sender's count for r is zero exactly
      // when r expects nothing from it): the canonical reduce-scatter's later rounds carry only
      // the ranks that have that many partials.
      for (int r = 0; r < size_; ++r) {
        if (send_counts[r] > 0)
          call("alltoallv", ncclSend(send + send_displs[r], size_t(send_counts[r]), ncclFloat32, r, comm_, stream_));
        if (recv_counts[r] > 0)
          call("alltoallv", ncclRecv(recv + recv_displs[r], size_t(recv_counts[r]), ncclFloat32, r, comm_, stream_));
      }
      group.close();
    }
    wait("alltoallv");
  }
  int64_t max_int(int64_t v) override { return reduce_int(v, ncclMax, "max_int"); }
  int64_t min_int(int64_t v) override { return reduce_int(v, ncclMin, "min_int"); }
  [[noreturn]] void abort(int code) override {
    abort_comm();
    bootstrap_.abort(code);
    std::_Exit(code);  // not reached: the bootstrap's abort does not return
  }

 private:
  // NCCL's stream waits for everything already queued on the kernels' stream.
  void after_kernels() {
    CUDA_CHECK(cudaEventRecord(kernels_done_, cuda::stream()));
    CUDA_CHECK(cudaStreamWaitEvent(stream_, kernels_done_, 0));
  }
  void abort_comm() {
    if (comm_) ncclCommAbort(comm_);
    comm_ = nullptr;
  }
  CollectiveSite site(const char* what) const { return {"NCCL", what, rank_, size_}; }
  // A failed enqueue: one line naming the collective. Not aborted here: a group may still be
  // open (its guard ends it first); the destructor aborts the communicator as the error
  // unwinds.
  void call(const char* what, ncclResult_t r) {
    if (r != ncclSuccess) throw_collective_failed(site(what), ncclGetErrorString(r));
  }
  GroupGuard open_group(const char* what) {
    return GroupGuard([this, what] { call(what, ncclGroupStart()); }, [this, what] { call(what, ncclGroupEnd()); });
  }
  void wait(const char* what) {
    CollectiveWaitHooks hooks;
    hooks.finished = [this] {
      const cudaError_t e = cudaStreamQuery(stream_);
      if (e == cudaErrorNotReady) return false;
      CUDA_CHECK(e);
      return true;
    };
    hooks.comm_error = [this] {
      ncclResult_t async = ncclSuccess;
      const ncclResult_t r = ncclCommGetAsyncError(comm_, &async);
      if (r != ncclSuccess) return std::string(ncclGetErrorString(r));
      if (async == ncclSuccess || async == ncclInProgress) return std::string();
      return std::string(ncclGetErrorString(async));
    };
    hooks.abort_comm = [this] { abort_comm(); };
    wait_collective(site(what), timeout_s_, hooks);
  }
  int64_t reduce_int(int64_t v, ncclRedOp_t op, const char* what) {
    *vote_ = v;
    CUDA_CHECK(cudaMemcpyAsync(scratch_, vote_, sizeof v, cudaMemcpyHostToDevice, stream_));
    call(what, ncclAllReduce(scratch_, scratch_, 1, ncclInt64, op, comm_, stream_));
    CUDA_CHECK(cudaMemcpyAsync(vote_, scratch_, sizeof v, cudaMemcpyDeviceToHost, stream_));
    wait(what);
    return *vote_;
  }

  Comm& bootstrap_;
  int rank_, size_;
  double timeout_s_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t kernels_done_ = nullptr;
  int64_t* scratch_ = nullptr;
  int64_t* vote_ = nullptr;  // pinned host memory
};

// The library's side of comm/nccl/nccl_comm.h, which comm/nccl/nccl_loader.cpp forwards here.
std::string versions() {
  auto dotted = [](int code) {  // NCCL >= 2.9: major * 10000 + minor * 100 + patch
    return str(code / 10000, ".", (code % 10000) / 100, ".", code % 100);
  };
  std::string out = str("nccl.build=", dotted(NCCL_VERSION_CODE), "\n");
  int v = 0;
  if (ncclGetVersion(&v) == ncclSuccess) out += str("nccl.runtime=", dotted(v), "\n");
  return out;
}
std::string version() {
  int v = 0;
  NCCL_CHECK(ncclGetVersion(&v));  // major*10000 + minor*100 + patch since 2.9
  return str("NCCL ", v / 10000, ".", v / 100 % 100, ".", v % 100);
}
std::unique_ptr<Comm> make_comm(Comm& bootstrap, double timeout_s) {
  return std::make_unique<NcclComm>(bootstrap, timeout_s);
}

}  // namespace
}  // namespace cairn

extern "C" __attribute__((visibility("default"))) const cairn::NcclBackend* cairn_nccl_backend() {
  static const cairn::NcclBackend backend{cairn::kNcclBackendVersion, sizeof(cairn::NcclBackend), cairn::versions,
                                          cairn::version, cairn::make_comm};
  return &backend;
}
