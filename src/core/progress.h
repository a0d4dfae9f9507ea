// core/progress.h — progress of a long operation (data prepare, ckpt verify/hash/export/
// import, resume loading), with rate and ETA.
//
//   Progress p("verify runs/a/checkpoints/step_00000500", total_bytes, Progress::kBytes);
//   for (...) { ...; p.add(n); }   // any thread
//   p.done();                      // final line; destroyed without done() (an error): silent
//
// On a terminal (stderr is a tty) one line is redrawn in place at most 10 times a second:
//   "verify step_00000500:  45% 120.0/266.2 MB  35.1 MB/s  eta 4s"
// and done() leaves the final state on it. Otherwise (a log file, a pipe, CI) the operation
// is quiet but logged: one line every 30 s while it runs, and a final "... done in 12s" line,
// only for operations that run longer than 2 s (short ones print nothing, so scripts that
// parse stdout/stderr of quick commands are unaffected). Everything goes to stderr (stdout
// stays for results such as `ckpt hash`), and only on rank 0 (core/log.h).
// CAIRN_PROGRESS=tty|log|off forces a mode (tests use it, with a clock of their own so that
// what is printed does not depend on the machine's speed).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace cairn {

class Progress {
 public:
  enum Unit { kBytes, kItems };
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  Progress(std::string what, int64_t total, Unit unit = kBytes, Clock clock = std::chrono::steady_clock::now);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void add(int64_t n);  // thread safe
  void done();

  // "4s", "3m05s", "1h02m"
  static std::string duration(double seconds);

 private:
  enum Mode { kOff, kTty, kLog };
  void report(bool final);
  std::string amount(int64_t n) const;

  std::string what_;
  int64_t total_;
  Unit unit_;
  Mode mode_;
  Clock clock_;
  std::atomic<int64_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_;
  bool finished_ = false;
  bool drew_ = false;
};

}  // namespace cairn
