// comm/mpi/no_mpi.cpp — compiled when cairn is built without MPI.
#include "comm/comm.h"
#include "core/error.h"

namespace cairn {

bool mpi_is_available() { return false; }
std::unique_ptr<Comm> make_mpi_comm(int*, char***) {
  CAIRN_FAIL("this cairn was built without MPI; rebuild with -DCAIRN_MPI=ON");
}
void mpi_finalize() {}

}  // namespace cairn
