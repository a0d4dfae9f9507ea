// comm/comm.h — the one communication interface cairn's algorithms are written against.
//
// Backends: MPI (host buffers; comm/mpi/mpi_comm.cpp), single process (comm/local_comm.cpp)
// and NCCL (comm/nccl/). CMake compiles a real backend or its no_* stand-in whose
// is_available() is false, so callers never branch on #ifdef.
//
// Reductions here are only for small integer flags and votes (exact in any order). Floating
// point sums are never delegated to a backend: the canonical gradient reduction
// (comm/reduce.h) moves data with all-to-all and sums in a fixed tree itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cairn {

class Comm {
 public:
  virtual ~Comm() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;
  // Whether a caller may skip a collective at size 1 (comm/reduce.h: the reduce-scatter is
  // then a copy and the all-gather nothing). NCCL says no, so that one GPU runs the grouped
  // send/recv and the in-place all-gather that W > 1 runs (to itself).
  virtual bool skips_single_rank_collectives() const { return true; }

  virtual void barrier() = 0;
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  // Equal-sized blocks: recv holds size() blocks of `bytes`, block r from rank r.
  virtual void allgather(const void* send, void* recv, size_t bytes) = 0;
  // Variable-sized float blocks: rank r contributes counts[r] floats placed at recv + displs[r].
  virtual void allgatherv(const float* send, float* recv, const std::vector<int64_t>& counts,
                          const std::vector<int64_t>& displs) = 0;
  // The same for raw bytes (counts and displacements in bytes), e.g. arrays of doubles.
  virtual void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                                const std::vector<int64_t>& displs) = 0;
  // The same to `root` only (MPI_Gatherv): root receives rank r's counts[r] bytes at
  // recv + displs[r]; recv is ignored elsewhere. counts and displs must be given on every
  // rank. The default moves what allgatherv_bytes moves (every rank receives everything);
  // backends with a real gather override it, so that what rank 0 alone needs (the
  // checkpoint commit's records) does not reach every rank.
  virtual void gatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                             const std::vector<int64_t>& displs, int root);
  // Block r of send (send_counts[r] floats at send_displs[r]) goes to rank r; block r of recv
  // comes from rank r.
  virtual void alltoallv(const float* send, const std::vector<int64_t>& send_counts,
                         const std::vector<int64_t>& send_displs, float* recv,
                         const std::vector<int64_t>& recv_counts,
                         const std::vector<int64_t>& recv_displs) = 0;
  virtual int64_t max_int(int64_t v) = 0;
  virtual int64_t min_int(int64_t v) = 0;

  // Bring the whole job down after an error that other ranks cannot know about.
  [[noreturn]] virtual void abort(int code) = 0;

  // Convenience: every rank agrees that `ok` holds on all ranks.
  bool all_agree(bool ok) { return min_int(ok ? 1 : 0) == 1; }
  bool any(bool flag) { return max_int(flag ? 1 : 0) == 1; }
};

// Single-process backend: size 1, every collective a copy.
std::unique_ptr<Comm> make_local_comm();

// MPI backend (comm/mpi/). mpi_is_available() is false when cairn was built without MPI.
bool mpi_is_available();
// True when this process was started by an MPI launcher (mpirun/srun set the environment).
bool launched_by_mpi();
// Initialises MPI once (MPI_THREAD_FUNNELED) and wraps MPI_COMM_WORLD.
std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv);
// Finalise MPI if it was initialised (called by main on the way out).
void mpi_finalize();

// Picks MPI when launched under an MPI launcher and MPI is available, else the local backend.
std::unique_ptr<Comm> make_default_comm(int* argc, char*** argv);

}  // namespace cairn
