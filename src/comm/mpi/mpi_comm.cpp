// comm/mpi/mpi_comm.cpp — the MPI backend over MPI_COMM_WORLD with host buffers.
//
// Errors: MPI_ERRORS_RETURN is installed so every call is checked by MPI_CHECK and turned
// into a cairn::Error naming the call and the rank. A rank that hits an error the others
// cannot see calls abort(), which is MPI_Abort: the launcher then kills every rank instead
// of letting them hang in the next collective.
//
// Counts: MPI takes int counts; a block of more than INT_MAX elements is rejected with a
// clear error (2^31 floats per rank block is far beyond what cairn trains on CPU).
#include <mpi.h>

#include <climits>
#include <cstdlib>

#include "comm/comm.h"
#include "core/error.h"

#define MPI_CHECK(call)                                                               \
  do {                                                                                \
    int mpi_rc_ = (call);                                                             \
    if (mpi_rc_ != MPI_SUCCESS) {                                                     \
      char msg_[MPI_MAX_ERROR_STRING];                                                \
      int len_ = 0;                                                                   \
      MPI_Error_string(mpi_rc_, msg_, &len_);                                         \
      throw ::cairn::Error(::cairn::str(#call, " failed: ", std::string(msg_, len_)), \
                           CAIRN_WHERE_(#call));                                      \
    }                                                                                 \
  } while (0)

namespace cairn {
namespace {

bool g_we_initialised = false;

std::vector<int> to_int(const std::vector<int64_t>& v, const char* what) {
  std::vector<int> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    CAIRN_CHECK(v[i] >= 0 && v[i] <= INT_MAX, what, ": block of ", v[i], " elements exceeds MPI's int count");
    out[i] = int(v[i]);
  }
  return out;
}

class MpiComm final : public Comm {
 public:
  MpiComm() {
    MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
    MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  void barrier() override { MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD)); }
  void broadcast(void* data, size_t bytes, int root) override {
    CAIRN_CHECK(bytes <= size_t(INT_MAX), "broadcast of ", bytes, " bytes is too large");
    MPI_CHECK(MPI_Bcast(data, int(bytes), MPI_BYTE, root, MPI_COMM_WORLD));
  }
  void allgather(const void* send, void* recv, size_t bytes) override {
    CAIRN_CHECK(bytes <= size_t(INT_MAX), "allgather of ", bytes, " bytes is too large");
    CAIRN_CHECK(send != recv, "allgather: send and receive buffers must differ");
    MPI_CHECK(MPI_Allgather(send, int(bytes), MPI_BYTE, recv, int(bytes), MPI_BYTE, MPI_COMM_WORLD));
  }
  void allgatherv(const float* send, float* recv, const std::vector<int64_t>& counts,
                  const std::vector<int64_t>& displs) override {
    auto c = to_int(counts, "allgatherv"), d = to_int(displs, "allgatherv");
    const void* s = (send == recv + displs[rank_]) ? MPI_IN_PLACE : send;
    MPI_CHECK(MPI_Allgatherv(s, c[rank_], MPI_FLOAT, recv, c.data(), d.data(), MPI_FLOAT, MPI_COMM_WORLD));
  }
  void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                        const std::vector<int64_t>& displs) override {
    auto c = to_int(counts, "allgatherv_bytes"), d = to_int(displs, "allgatherv_bytes");
    const void* s = (send == static_cast<char*>(recv) + displs[rank_]) ? MPI_IN_PLACE : send;
    MPI_CHECK(MPI_Allgatherv(s, c[rank_], MPI_BYTE, recv, c.data(), d.data(), MPI_BYTE, MPI_COMM_WORLD));
  }
  void gatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                     const std::vector<int64_t>& displs, int root) override {
    auto c = to_int(counts, "gatherv_bytes"), d = to_int(displs, "gatherv_bytes");
    MPI_CHECK(MPI_Gatherv(send, c[rank_], MPI_BYTE, recv, c.data(), d.data(), MPI_BYTE, root, MPI_COMM_WORLD));
  }
  void alltoallv(const float* send, const std::vector<int64_t>& send_counts,
                 const std::vector<int64_t>& send_displs, float* recv,
                 const std::vector<int64_t>& recv_counts,
                 const std::vector<int64_t>& recv_displs) override {
    auto sc = to_int(send_counts, "alltoallv"), sd = to_int(send_displs, "alltoallv");
    auto rc = to_int(recv_counts, "alltoallv"), rd = to_int(recv_displs, "alltoallv");
    MPI_CHECK(MPI_Alltoallv(send, sc.data(), sd.data(), MPI_FLOAT, recv, rc.data(), rd.data(),
                            MPI_FLOAT, MPI_COMM_WORLD));
  }
  int64_t max_int(int64_t v) override {
    long long in = v, out = 0;
    MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD));
    return out;
  }
  int64_t min_int(int64_t v) override {
    long long in = v, out = 0;
    MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD));
    return out;
  }
  [[noreturn]] void abort(int code) override {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
  }

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool mpi_is_available() { return true; }

std::unique_ptr<Comm> make_mpi_comm(int* argc, char*** argv) {
  int initialised = 0;
  MPI_CHECK(MPI_Initialized(&initialised));
  if (!initialised) {
    int provided = 0;
    MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
    g_we_initialised = true;
  }
  MPI_CHECK(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN));
  return std::make_unique<MpiComm>();
}

void mpi_finalize() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (g_we_initialised && !finalised) MPI_Finalize();
}

}  // namespace cairn
