// core/progress.h: what a long operation prints in each mode — a redrawn line with the final
// state on a terminal, nothing for a short operation when logged, a line every 30 s and a
// final line for a long one, nothing when off — and the duration format of its ETA. Time is
// a fake clock the test advances, so the output does not depend on the machine's speed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>

#include "core/progress.h"

namespace cairn {
namespace {

// A clock that only moves when the test says so.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  void advance(double seconds) {
    now += std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  }
  Progress::Clock clock() {
    return [this] { return now; };
  }
};

struct ScopedProgressMode {
  explicit ScopedProgressMode(const char* mode) { ::setenv("CAIRN_PROGRESS", mode, 1); }
  ~ScopedProgressMode() { ::unsetenv("CAIRN_PROGRESS"); }
};

// Adds 1 MB then 2 MB of 3 MB, `step` seconds apart, and returns what was printed.
std::string run_progress(const char* mode, double step) {
  ScopedProgressMode m(mode);
  FakeClock t;
  testing::internal::CaptureStderr();
  {
    Progress p("verify x", 3'000'000, Progress::kBytes, t.clock());
    t.advance(step);
    p.add(1'000'000);
    t.advance(step);
    p.add(2'000'000);
    p.done();
  }
  return testing::internal::GetCapturedStderr();
}

TEST(Progress, TerminalShowsTheFinalState) {
  EXPECT_EQ(run_progress("tty", 0), "\rverify x: 3.0 MB done in 0s (0.0 MB/s)\x1b[K\n");
}

TEST(Progress, TerminalRedrawsAtMostTenTimesASecond) {
  const std::string out = run_progress("tty", 0.5);
  EXPECT_EQ(out,
            "\rverify x:  33% 1.0 MB/3.0 MB  2.0 MB/s  eta 1s\x1b[K"
            "\rverify x: 100% 3.0 MB/3.0 MB  3.0 MB/s  eta 0s\x1b[K"
            "\rverify x: 3.0 MB done in 1s (3.0 MB/s)\x1b[K\n");
  EXPECT_EQ(run_progress("tty", 0.04), "\rverify x: 3.0 MB done in 0s (37.5 MB/s)\x1b[K\n");  // no redraw
}

TEST(Progress, LoggedShortOperationsAndOffAreSilent) {
  EXPECT_EQ(run_progress("log", 0.9), "");  // 1.8 s, under 2 s: nothing in logs
  EXPECT_EQ(run_progress("off", 0), "");
  EXPECT_EQ(run_progress("off", 100), "");
}

TEST(Progress, LoggedLongOperationsPrintEveryThirtySecondsAndAtTheEnd) {
  EXPECT_EQ(run_progress("log", 1.5), "verify x: 3.0 MB done in 3s (1.0 MB/s)\n");  // 3 s: the final line only
  EXPECT_EQ(run_progress("log", 40),
            "verify x:  33% 1.0 MB/3.0 MB  0.0 MB/s  eta 1m20s\n"
            "verify x: 100% 3.0 MB/3.0 MB  0.0 MB/s  eta 0s\n"
            "verify x: 3.0 MB done in 1m20s (0.0 MB/s)\n");
}

TEST(Progress, AbandonedTerminalLineIsEnded) {
  ScopedProgressMode m("tty");
  FakeClock t;
  testing::internal::CaptureStderr();
  {
    Progress p("import", 10, Progress::kItems, t.clock());
    p.done();
  }
  { Progress abandoned("never drawn", 10, Progress::kItems, t.clock()); }  // nothing drawn: no stray newline
  {
    Progress drawn("half drawn", 10, Progress::kItems, t.clock());
    t.advance(1);
    drawn.add(4);
  }  // drawn, then abandoned (an exception): the line is ended
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "\rimport: 0 done in 0s (0/s)\x1b[K\n\rhalf drawn:  40% 4/10  4/s  eta 2s\x1b[K\n");
}

TEST(Progress, Durations) {
  EXPECT_EQ(Progress::duration(4.4), "4s");
  EXPECT_EQ(Progress::duration(185), "3m05s");
  EXPECT_EQ(Progress::duration(3720), "1h02m");
  EXPECT_EQ(Progress::duration(-1), "0s");
}

}  // namespace
}  // namespace cairn
