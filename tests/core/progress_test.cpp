// core/progress.h: what a long operation prints in each mode — a redrawn line with the final
// state on a terminal, nothing for a short operation when logged, nothing when off — and the
// duration format of its ETA.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "core/progress.h"

namespace cairn {
namespace {

std::string run_progress(const char* mode) {
  ::setenv("CAIRN_PROGRESS", mode, 1);
  testing::internal::CaptureStderr();
  {
    Progress p("verify x", 3'000'000, Progress::kBytes);
    p.add(1'000'000);
    p.add(2'000'000);
    p.done();
  }
  ::unsetenv("CAIRN_PROGRESS");
  return testing::internal::GetCapturedStderr();
}

TEST(Progress, TerminalShowsTheFinalState) {
  const std::string out = run_progress("tty");
  EXPECT_NE(out.find("\rverify x: 3.0 MB done in 0s"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, LoggedShortOperationsAndOffAreSilent) {
  EXPECT_EQ(run_progress("log"), "");  // under 2 s: nothing in logs
  EXPECT_EQ(run_progress("off"), "");
}

TEST(Progress, AbandonedTerminalLineIsEnded) {
  ::setenv("CAIRN_PROGRESS", "tty", 1);
  testing::internal::CaptureStderr();
  {
    Progress p("import", 10, Progress::kItems);
    p.done();
  }
  { Progress abandoned("never drawn", 10, Progress::kItems); }  // nothing drawn: no stray newline
  ::unsetenv("CAIRN_PROGRESS");
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(out, "\rimport: 0 done in 0s (0/s)\x1b[K\n");
}

TEST(Progress, Durations) {
  EXPECT_EQ(Progress::duration(4.4), "4s");
  EXPECT_EQ(Progress::duration(185), "3m05s");
  EXPECT_EQ(Progress::duration(3720), "1h02m");
  EXPECT_EQ(Progress::duration(-1), "0s");
}

}  // namespace
}  // namespace cairn
