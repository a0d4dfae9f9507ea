// comm/votes_comm.h — a Comm that takes its integer votes over another Comm.
//
// On a GPU run the trainer's control messages (config and error strings, metrics, the
// checkpoint commit's records) are host data and stay on the host Comm (MPI or local), while
// the votes — max_int/min_int, hence all_agree/any/barrier: the stop/preemption agreement,
// an async save's "my writer is done" poll and the commit's success vote — go over NCCL, as
// DESIGN §3 asks ("all ranks vote on the active backend"). Integer reductions are exact in
// any order, so which transport carries them never changes a result. The checkpoint code
// and the trainer see one Comm and run the same code on both devices.
#pragma once

#include <memory>

#include "comm/comm.h"

namespace cairn {

// Everything over `host` except max_int, min_int and barrier, which go over `votes`. Both
// must span the same ranks in the same order and outlive the returned Comm.
std::unique_ptr<Comm> make_votes_comm(Comm& host, Comm& votes);

}  // namespace cairn
