// train/run_lock.h — exclusive use of a run directory by one training job.
//
// Two jobs training into the same run.dir would delete each other's in-progress saves
// (resume removes stale step_*.tmp), interleave metrics.jsonl and race on checkpoints/latest.
// Rank 0 therefore holds an advisory lock, flock(LOCK_EX) on <run.dir>/.lock, for the whole
// run. The lock belongs to the open file description, so the kernel drops it when the
// process dies in any way (SIGKILL included): a lock left by a killed job never blocks
// `--resume auto`. The file itself stays; it holds "pid host start-time" of the last holder,
// only for the message a refused job prints.
//
// Limits: flock is advisory (only cairn honours it) and, on NFS, depends on the server's
// lock support; deleting the run directory while a job runs deletes the lock file too.
#pragma once

#include <string>

namespace cairn {

inline constexpr const char* kRunLockFile = ".lock";

class RunDirLock {
 public:
  // Locks <run_dir>/.lock (creating it), or throws cairn::Error naming the run directory and
  // the holder when another process holds it. run_dir must exist.
  static RunDirLock acquire(const std::string& run_dir);

  RunDirLock() = default;
  RunDirLock(RunDirLock&& other) noexcept;
  RunDirLock& operator=(RunDirLock&& other) noexcept;
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  ~RunDirLock();  // releases the lock (the file stays)

  bool held() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace cairn
