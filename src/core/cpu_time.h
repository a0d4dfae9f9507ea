// core/cpu_time.h — CPU time of the calling thread, for attributing a background job's cost
// (a checkpoint save's phases) while other threads train beside it.
#pragma once

#include <time.h>

namespace cairn {

// Seconds of CPU (user + system) this thread has used.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Adds the calling thread's CPU seconds between construction and destruction to *total.
class ThreadCpuTimer {
 public:
  explicit ThreadCpuTimer(double* total) : total_(total), start_(thread_cpu_seconds()) {}
  ~ThreadCpuTimer() { *total_ += thread_cpu_seconds() - start_; }
  ThreadCpuTimer(const ThreadCpuTimer&) = delete;
  ThreadCpuTimer& operator=(const ThreadCpuTimer&) = delete;

 private:
  double* total_;
  double start_;
};

}  // namespace cairn
