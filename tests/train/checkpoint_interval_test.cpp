// Young/Daly's checkpoint interval (train/checkpoint_interval.h): the formula on values
// worked by hand, the async floor, the conversion to steps, bad input, and the log line.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "train/checkpoint_interval.h"

namespace cairn {
namespace {

TEST(CheckpointInterval, YoungDalyFormula) {
  // sqrt(2 * 5 s * 24 h) = sqrt(864000) = 929.5 s; at 4 s/step: 232.4 -> 232 steps.
  CheckpointInterval ci = young_daly_interval(5.0, 24 * 3600.0, 4.0);
  EXPECT_DOUBLE_EQ(ci.young_daly_s, std::sqrt(864000.0));
  EXPECT_DOUBLE_EQ(ci.interval_s, ci.young_daly_s);
  EXPECT_EQ(ci.floor_s, 0.0);
  EXPECT_EQ(ci.steps, 232);
  // Quadrupling the cost doubles the interval.
  EXPECT_DOUBLE_EQ(young_daly_interval(20.0, 24 * 3600.0, 4.0).young_daly_s, 2 * std::sqrt(864000.0));
  // sqrt(2 * 0.5 * 3600) = 60 s exactly: 60 steps of 1 s, 24 of 2.5 s, 17 of 3.5 s (17.14).
  EXPECT_DOUBLE_EQ(young_daly_interval(0.5, 3600.0, 1.0).interval_s, 60.0);
  EXPECT_EQ(young_daly_interval(0.5, 3600.0, 1.0).steps, 60);
  EXPECT_EQ(young_daly_interval(0.5, 3600.0, 2.5).steps, 24);
  EXPECT_EQ(young_daly_interval(0.5, 3600.0, 3.5).steps, 17);
  EXPECT_EQ(young_daly_interval(0.5, 3600.0, 3.2).steps, 19);  // 18.75 rounds up
}

TEST(CheckpointInterval, AsyncWriteFloorsTheInterval) {
  // A 0.01 s stall, MTBF 1 h: sqrt(72) = 8.5 s, but the write takes 30 s.
  CheckpointInterval ci = young_daly_interval(0.01, 3600.0, 2.0, 30.0);
  EXPECT_DOUBLE_EQ(ci.young_daly_s, std::sqrt(72.0));
  EXPECT_DOUBLE_EQ(ci.interval_s, 30.0);
  EXPECT_EQ(ci.steps, 15);
  // A floor below the formula changes nothing.
  EXPECT_DOUBLE_EQ(young_daly_interval(5.0, 24 * 3600.0, 4.0, 10.0).interval_s, std::sqrt(864000.0));
}

TEST(CheckpointInterval, StepsAtLeastOneAndUnknownStepTime) {
  EXPECT_EQ(young_daly_interval(0.0, 3600.0, 2.0).steps, 1);   // a free save: every step
  EXPECT_EQ(young_daly_interval(1e-6, 1.0, 100.0).steps, 1);   // interval far below a step
  EXPECT_EQ(young_daly_interval(5.0, 3600.0, 0.0).steps, 0);   // step time not measured
}

TEST(CheckpointInterval, RejectsBadInput) {
  EXPECT_THROW(young_daly_interval(-1.0, 3600.0, 1.0), Error);
  EXPECT_THROW(young_daly_interval(1.0, 0.0, 1.0), Error);
  EXPECT_THROW(young_daly_interval(1.0, -5.0, 1.0), Error);
  EXPECT_THROW(young_daly_interval(1.0, 3600.0, -1.0), Error);
  EXPECT_THROW(young_daly_interval(NAN, 3600.0, 1.0), Error);
  EXPECT_THROW(young_daly_interval(1.0, 3600.0, 1.0, -1.0), Error);
}

TEST(CheckpointInterval, LogLineNamesCostIntervalAndConfigured) {
  CheckpointInterval ci = young_daly_interval(5.0, 24 * 3600.0, 4.0);
  EXPECT_EQ(describe_checkpoint_interval(ci, 5.0, false, 24.0, 4.0, 10),
            "checkpoint interval: Young/Daly recommends every 929.5 s = 232 steps (sqrt(2 x 5.000 s sync save x "
            "MTBF 24 h) = 929.5 s, at 4.000 s/step); configured: every 10 steps = 40.0 s");
  CheckpointInterval floored = young_daly_interval(0.01, 3600.0, 2.0, 30.0);
  EXPECT_EQ(describe_checkpoint_interval(floored, 0.01, true, 1.0, 2.0, 0),
            "checkpoint interval: Young/Daly recommends every 30.0 s = 15 steps (sqrt(2 x 0.010 s stall of an async "
            "save x MTBF 1 h) = 8.5 s, raised to the 30.0 s an async save takes to write: never two saves in flight, "
            "at 2.000 s/step); configured: only at the end of training (checkpoint.every_steps = 0)");
}

}  // namespace
}  // namespace cairn
