// train/run_dir_shared.h — refuse to train when the ranks do not all see one run directory.
//
// Every rank writes its checkpoint shard into run.dir and rank 0 alone commits what it can see,
// so on several nodes run.dir must be one directory on storage every node mounts at the same
// path. A node-local path (the same name on every node, different disks) would otherwise look
// fine until the first save, whose vote then fails on missing shards, or worse, a resume that
// reads another run's leftovers. So at start-up (fresh or resumed alike) every rank writes a
// probe file named by a nonce from rank 0, and rank 0 checks it sees every one of them.
#pragma once

#include <string>

#include "comm/comm.h"

namespace cairn {

// Collective. Throws CollectiveError on every rank, with one line naming the ranks (and
// hosts) whose probe rank 0 cannot see, when run_dir is not shared. run_dir must exist on rank
// 0; other ranks do not create it (a missing directory is itself the sign of a node-local path).
void check_run_dir_shared(Comm& comm, const std::string& run_dir);

}  // namespace cairn
