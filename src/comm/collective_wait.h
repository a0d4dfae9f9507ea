// comm/collective_wait.h — how a device transport (NCCL) waits for its collectives without
// hanging the job, and how it keeps a group of calls closed; backend-independent so the CPU
// tests can drive it with a fake status source (tests/comm/collective_wait_test.cpp).
//
// A collective queued on a GPU stream completes only when every peer takes part: a dead or
// stuck peer would leave the caller blocked in cudaStreamSynchronize forever (the MPI path
// comes down through its launcher in seconds). wait_collective polls the stream and the
// communicator's asynchronous error instead, with a deadline (run.comm_timeout_s); on an
// error or at the deadline it aborts the communicator (so its kernels stop and the GPU is
// free) and throws one line naming the rank, the collective and the step.
//
// Checkpoint writes do not count against the deadline: a rank that finished its shard waits
// in the commit vote for the slowest disk, which may take far longer than any collective.
// The trainer holds an UntimedCollectives scope around each save and commit; while one is
// alive on this process, waits still poll for errors but have no deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace cairn {

// Default of run.comm_timeout_s.
constexpr double kDefaultCommTimeoutSeconds = 300.0;

// The step that collectives issued from now on belong to (error messages only). The trainer
// sets it; -1 (the default) means "before the first step".
void set_comm_step(int64_t step);
int64_t comm_step();

// While one of these is alive (any thread), wait_collective has no deadline.
class UntimedCollectives {
 public:
  UntimedCollectives();
  ~UntimedCollectives();
  UntimedCollectives(const UntimedCollectives&) = delete;
  UntimedCollectives& operator=(const UntimedCollectives&) = delete;
};
bool collectives_untimed();

// What a wait polls, and what it does on failure. now_s and pause have real defaults
// (steady clock; a short back-off sleep); tests replace them.
struct CollectiveWaitHooks {
  std::function<bool()> finished;           // the collective's stream is done (throws on a CUDA error)
  std::function<std::string()> comm_error;  // "" while the communicator is healthy, else why not
  std::function<void()> abort_comm;         // called once, before the throw
  std::function<double()> now_s;            // a monotonic clock in seconds
  std::function<void(int polls)> pause;     // between polls; `polls` so far (back-off)
};

struct CollectiveSite {
  const char* backend;     // "NCCL"
  const char* collective;  // "alltoallv", "allgather", "max_int", ...
  int rank, size;
};

// Waits until hooks.finished() holds. Throws cairn::Error (after hooks.abort_comm()) when
// hooks.comm_error() reports an error, or when timeout_s > 0 has passed and no
// UntimedCollectives scope is alive:
//   "NCCL alltoallv on rank 1 of 4 at step 17 did not finish within 300 s (run.comm_timeout_s):
//    a peer is dead or stuck; communicator aborted"
void wait_collective(const CollectiveSite& site, double timeout_s, const CollectiveWaitHooks& hooks);

// Throws "NCCL alltoallv on rank 1 of 4 at step 17 failed: <why>" (an enqueue that failed).
[[noreturn]] void throw_collective_failed(const CollectiveSite& site, const std::string& why);

// Keeps a group of calls (ncclGroupStart ... ncclGroupEnd) closed on every path: the
// constructor calls `start`; close() calls `end` and lets its error through; if the scope is
// left without close() (a call inside the group threw), the destructor calls `end` and
// swallows its error, so the exception in flight is the one reported and the next
// collective on this thread is not queued into a group that never ends.
class GroupGuard {
 public:
  GroupGuard(std::function<void()> start, std::function<void()> end);
  ~GroupGuard();
  void close();
  GroupGuard(const GroupGuard&) = delete;
  GroupGuard& operator=(const GroupGuard&) = delete;

 private:
  std::function<void()> end_;
  bool open_ = false;
};

}  // namespace cairn
