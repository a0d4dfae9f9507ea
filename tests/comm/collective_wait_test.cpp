// tests/comm/collective_wait_test.cpp — how the NCCL transport waits for a collective and
// keeps its groups closed (comm/collective_wait.h), driven by a fake stream status, a fake
// communicator error and a fake clock, since no GPU runs here: a collective that finishes
// returns; one that does not is aborted at run.comm_timeout_s with one line naming the rank,
// the collective and the step; an asynchronous communicator error ends it at once; a
// checkpoint save (UntimedCollectives) suspends the deadline but not the error check; a
// group whose calls throw is still ended, once, and the first error is the one reported.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "comm/collective_wait.h"
#include "core/error.h"

namespace cairn {
namespace {

// A collective that finishes after `finish_after` polls (never if < 0), whose communicator
// reports `error` from poll `error_at` on, on a clock that advances 1 s per poll.
struct FakeCollective {
  int finish_after = -1, error_at = -1;
  std::string error;
  int polls = 0, aborts = 0;
  double clock = 1000.0;

  CollectiveWaitHooks hooks() {
    CollectiveWaitHooks h;
    h.finished = [this] { return finish_after >= 0 && polls >= finish_after; };
    h.comm_error = [this] { return error_at >= 0 && polls >= error_at ? error : std::string(); };
    h.abort_comm = [this] { ++aborts; };
    h.now_s = [this] { return clock; };
    h.pause = [this](int) {
      ++polls;
      clock += 1.0;
    };
    return h;
  }
};

const CollectiveSite kSite{"NCCL", "alltoallv", 1, 4};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

struct StepLabel {
  explicit StepLabel(int64_t s) { set_comm_step(s); }
  ~StepLabel() { set_comm_step(-1); }
};

TEST(CollectiveWait, ReturnsWhenTheStreamIsDone) {
  FakeCollective c;
  c.finish_after = 3;
  wait_collective(kSite, 10, c.hooks());
  EXPECT_EQ(c.polls, 3);
  EXPECT_EQ(c.aborts, 0);
}

TEST(CollectiveWait, DeadlineAbortsTheCommunicatorAndNamesRankCollectiveAndStep) {
  StepLabel step(17);
  FakeCollective c;  // a dead peer: never finishes, reports nothing
  EXPECT_EQ(message_of([&] { wait_collective(kSite, 5, c.hooks()); }),
            "NCCL alltoallv on rank 1 of 4 at step 17 did not finish within 5 s (run.comm_timeout_s): a peer is dead "
            "or stuck; communicator aborted");
  EXPECT_EQ(c.aborts, 1);
  EXPECT_EQ(c.polls, 6);  // gave up at the first poll past the deadline, not later
}

TEST(CollectiveWait, AsyncErrorEndsTheWaitAtOnce) {
  StepLabel step(3);
  FakeCollective c;
  c.error_at = 2;
  c.error = "remote process exited or there was a network error";
  EXPECT_EQ(message_of([&] { wait_collective({"NCCL", "max_int", 0, 2}, 300, c.hooks()); }),
            "NCCL max_int on rank 0 of 2 at step 3 failed: remote process exited or there was a network error; "
            "communicator aborted");
  EXPECT_EQ(c.aborts, 1);
  EXPECT_EQ(c.polls, 2);
}

TEST(CollectiveWait, BeforeTheFirstStepSaysSo) {
  FakeCollective c;
  EXPECT_EQ(message_of([&] { wait_collective({"NCCL", "broadcast", 0, 1}, 0.5, c.hooks()); }),
            "NCCL broadcast on rank 0 of 1 before the first step did not finish within 0.5 s (run.comm_timeout_s): a "
            "peer is dead or stuck; communicator aborted");
}

TEST(CollectiveWait, CheckpointSavesDoNotCountAgainstTheDeadline) {
  FakeCollective slow;  // the commit vote waits 50 s for the slowest disk
  slow.finish_after = 50;
  {
    UntimedCollectives saving;
    EXPECT_TRUE(collectives_untimed());
    wait_collective(kSite, 5, slow.hooks());
  }
  EXPECT_FALSE(collectives_untimed());
  EXPECT_EQ(slow.aborts, 0);

  FakeCollective broken;  // but a communicator error still ends a save's wait
  broken.error_at = 7;
  broken.error = "unhandled system error";
  UntimedCollectives saving;
  EXPECT_NE(message_of([&] { wait_collective(kSite, 5, broken.hooks()); }).find("failed: unhandled system error"),
            std::string::npos);
  EXPECT_EQ(broken.aborts, 1);
}

TEST(CollectiveWait, ZeroTimeoutMeansNoLimit) {
  FakeCollective c;
  c.finish_after = 10000;
  wait_collective(kSite, 0, c.hooks());
  EXPECT_EQ(c.aborts, 0);
}

TEST(CollectiveWait, EnqueueFailureNamesTheCollective) {
  StepLabel step(9);
  EXPECT_EQ(message_of([] { throw_collective_failed({"NCCL", "allgatherv", 2, 4}, "invalid usage"); }),
            "NCCL allgatherv on rank 2 of 4 at step 9 failed: invalid usage");
}

TEST(GroupGuard, ClosedOnceOnTheNormalPath) {
  int starts = 0, ends = 0;
  {
    GroupGuard g([&] { ++starts; }, [&] { ++ends; });
    EXPECT_EQ(starts, 1);
    EXPECT_EQ(ends, 0);
    g.close();
    EXPECT_EQ(ends, 1);
  }
  EXPECT_EQ(ends, 1);  // not again in the destructor
}

TEST(GroupGuard, AThrowInsideTheGroupStillEndsItAndKeepsTheFirstError) {
  int ends = 0;
  auto failing_group = [&] {
    GroupGuard g([] {}, [&] {
      ++ends;
      throw Error("group end failed too");  // swallowed: the send's error is the one in flight
    });
    throw Error("ncclSend failed");  // a call inside the group
  };
  EXPECT_EQ(message_of(failing_group), "ncclSend failed");
  EXPECT_EQ(ends, 1);
}

TEST(GroupGuard, ErrorOfTheEndItselfIsReported) {
  auto bad_end = [] {
    GroupGuard g([] {}, [] { throw Error("ncclGroupEnd: remote error"); });
    g.close();
  };
  EXPECT_EQ(message_of(bad_end), "ncclGroupEnd: remote error");
}

TEST(GroupGuard, AFailedStartOpensNothing) {
  int ends = 0;
  EXPECT_EQ(message_of([&] { GroupGuard g([] { throw Error("ncclGroupStart failed"); }, [&] { ++ends; }); }),
            "ncclGroupStart failed");
  EXPECT_EQ(ends, 0);
}

}  // namespace
}  // namespace cairn
