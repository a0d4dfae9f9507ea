// train/run_dir_shared.cpp — the shared-run.dir probe (see run_dir_shared.h).
#include "train/run_dir_shared.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <vector>

#include "comm/gather.h"
#include "core/error.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace cairn {
namespace {

std::string hostname() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "?";
  return host;
}

std::string probe_path(const std::string& run_dir, const std::string& nonce, int rank) {
  return (fs::path(run_dir) / str(".probe.", nonce, ".rank", rank)).string();
}

}  // namespace

void check_run_dir_shared(Comm& comm, const std::string& run_dir) {
  if (comm.size() == 1) return;
  // A fresh nonce per start: a probe left by a killed run can never stand in for this one's.
  std::string nonce;
  if (comm.rank() == 0)
    nonce = str(::getpid(), "-", std::chrono::steady_clock::now().time_since_epoch().count());
  nonce = broadcast_string(comm, nonce, 0);

  const std::string mine = probe_path(run_dir, nonce, comm.rank());
  bool wrote = false;
  if (comm.rank() == 0 || fs::is_directory(run_dir)) {
    std::ofstream(mine) << hostname() << "\n";
    wrote = fs::exists(mine);
  }
  // After this gather every probe that was written is on disk (the writers returned).
  const std::vector<std::string> hosts = allgather_strings(comm, hostname());
  const std::vector<std::string> wrote_all = allgather_strings(comm, wrote ? "1" : "0");

  std::string error;
  if (comm.rank() == 0) {
    std::string missing;
    int n_missing = 0;
    for (int r = 1; r < comm.size(); ++r) {
      std::error_code ec;
      if (fs::exists(probe_path(run_dir, nonce, r), ec)) continue;
      ++n_missing;
      missing += str(missing.empty() ? "" : ", ", r, " on ", hosts[size_t(r)],
                     wrote_all[size_t(r)] == "1" ? "" : " (no such directory there)");
    }
    if (wrote_all[0] != "1")
      error = str("cannot write a file in run.dir ", run_dir, " on rank 0 (", hosts[0], "): check its permissions");
    else if (n_missing > 0)
      error = str("run.dir ", run_dir, " is not shared between the ranks: rank 0 on ", hosts[0],
                  " cannot see the probe file of rank", n_missing > 1 ? "s " : " ", missing,
                  "; on several nodes run.dir must be one directory on a filesystem every node "
                  "mounts at the same path (NFS, Lustre, ...)");
  }
  error = broadcast_string(comm, error, 0);  // also: rank 0 has finished looking
  std::error_code ec;
  fs::remove(mine, ec);
  if (!error.empty()) throw CollectiveError(error);
}

}  // namespace cairn
