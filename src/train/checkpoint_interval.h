// train/checkpoint_interval.h — how often to checkpoint: Young/Daly's first-order optimum.
//
// With failures arriving at a mean interval M (the MTBF, seconds) and a checkpoint costing
// the run C seconds, the interval between checkpoints that minimises the expected lost
// time (the time spent saving plus the work redone after a failure) is, to first order,
//     tau = sqrt(2 * C * M)                       (Young 1974; Daly 2006)
// valid while C << M. The interval is then turned into steps at the measured step time.
//
// Which C: the time the *training* thread loses per save. For a synchronous save that is
// the whole save; for an asynchronous one it is the stall (start, snapshot wait, commit
// vote), since the write runs beside training. An asynchronous save cannot usefully come
// more often than its write takes (the next save would wait for the writer: never two in
// flight), so for async saves the write's duration is a floor on the interval.
//
// `cairn train` logs the recommendation once, after the first save has measured C, when
// checkpoint.mtbf_hours is set (train/checkpointer.cpp).
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

struct CheckpointInterval {
  double young_daly_s = 0;  // sqrt(2 * save_cost_s * mtbf_s)
  double floor_s = 0;       // async: the write's duration (start to commit); 0 for sync
  double interval_s = 0;    // max(young_daly_s, floor_s)
  int64_t steps = 0;        // interval_s in whole steps (>= 1); 0 if the step time is unknown
};

// save_cost_s >= 0, mtbf_s > 0, step_s >= 0 (0: not measured yet), floor_s >= 0.
// Throws cairn::Error on other input.
CheckpointInterval young_daly_interval(double save_cost_s, double mtbf_s, double step_s, double floor_s = 0);

// The log line, e.g. "checkpoint interval: Young/Daly recommends every 134.6 s = 32 steps
// (sqrt(2 x 0.105 s stall of an async save x MTBF 24.0 h), at 4.19 s/step); configured:
// every 10 steps = 41.9 s".
// configured_steps 0: only at the end of training.
std::string describe_checkpoint_interval(const CheckpointInterval& ci, double save_cost_s, bool async,
                                         double mtbf_hours, double step_s, int64_t configured_steps);

}  // namespace cairn
