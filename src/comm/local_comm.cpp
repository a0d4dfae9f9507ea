// comm/local_comm.cpp — the single-process backend: world size 1, collectives are copies.
// Used by `cairn train` when not launched by mpirun, and by unit tests.
#include <cstdlib>
#include <cstring>

#include "comm/comm.h"
#include "core/error.h"

namespace cairn {
namespace {

class LocalComm final : public Comm {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string backend() const override { return "local"; }
  void barrier() override {}
  void broadcast(void*, size_t, int root) override { CAIRN_CHECK(root == 0, "broadcast root ", root, " out of range"); }
  void allgather(const void* send, void* recv, size_t bytes) override {
    if (send != recv) std::memmove(recv, send, bytes);
  }
  void allgatherv(const float* send, float* recv, const std::vector<int64_t>& counts,
                  const std::vector<int64_t>& displs) override {
    if (send != recv + displs[0]) std::memmove(recv + displs[0], send, sizeof(float) * counts[0]);
  }
  void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                        const std::vector<int64_t>& displs) override {
    char* dst = static_cast<char*>(recv) + displs[0];
    if (send != dst) std::memmove(dst, send, size_t(counts[0]));
  }
  void alltoallv(const float* send, const std::vector<int64_t>& send_counts,
                 const std::vector<int64_t>& send_displs, float* recv,
                 const std::vector<int64_t>& recv_counts,
                 const std::vector<int64_t>& recv_displs) override {
    CAIRN_CHECK(send_counts[0] == recv_counts[0], "alltoallv: count mismatch");
    std::memmove(recv + recv_displs[0], send + send_displs[0], sizeof(float) * send_counts[0]);
  }
  int64_t max_int(int64_t v) override { return v; }
  int64_t min_int(int64_t v) override { return v; }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }
};

}  // namespace

std::unique_ptr<Comm> make_local_comm() { return std::make_unique<LocalComm>(); }

bool launched_by_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"}) {
    if (std::getenv(var)) return true;
  }
  return false;
}

std::unique_ptr<Comm> make_default_comm(int* argc, char*** argv) {
  if (launched_by_mpi()) {
    CAIRN_CHECK(mpi_is_available(),
                "started by an MPI launcher but this cairn was built without MPI; rebuild with "
                "-DCAIRN_MPI=ON (scripts/setup.sh installs OpenMPI)");
    return make_mpi_comm(argc, argv);
  }
  return make_local_comm();
}

}  // namespace cairn
