// train/checkpoint_interval.cpp — Young/Daly's checkpoint interval (see checkpoint_interval.h).
#include "train/checkpoint_interval.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace cairn {

CheckpointInterval young_daly_interval(double save_cost_s, double mtbf_s, double step_s, double floor_s) {
  CAIRN_CHECK(std::isfinite(save_cost_s) && save_cost_s >= 0, "young_daly_interval: save cost ", save_cost_s,
              " s must be >= 0");
  CAIRN_CHECK(std::isfinite(mtbf_s) && mtbf_s > 0, "young_daly_interval: MTBF ", mtbf_s, " s must be > 0");
  CAIRN_CHECK(std::isfinite(step_s) && step_s >= 0, "young_daly_interval: step time ", step_s, " s must be >= 0");
  CAIRN_CHECK(std::isfinite(floor_s) && floor_s >= 0, "young_daly_interval: floor ", floor_s, " s must be >= 0");
  CheckpointInterval ci;
  ci.young_daly_s = std::sqrt(2.0 * save_cost_s * mtbf_s);
  ci.floor_s = floor_s;
  ci.interval_s = std::max(ci.young_daly_s, floor_s);
  if (step_s > 0) {
    const double steps = std::llround(ci.interval_s / step_s);
    ci.steps = std::max<int64_t>(1, int64_t(std::min(steps, 9.0e18)));
  }
  return ci;
}

std::string describe_checkpoint_interval(const CheckpointInterval& ci, double save_cost_s, bool async,
                                         double mtbf_hours, double step_s, int64_t configured_steps) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, "checkpoint interval: Young/Daly recommends every %.1f s", ci.interval_s);
  if (ci.steps > 0) n += std::snprintf(buf + n, sizeof buf - size_t(n), " = %lld steps", (long long)ci.steps);
  n += std::snprintf(buf + n, sizeof buf - size_t(n), " (sqrt(2 x %.3f s %s x MTBF %.3g h) = %.1f s",
                     save_cost_s, async ? "stall of an async save" : "sync save", mtbf_hours, ci.young_daly_s);
  if (ci.floor_s > ci.young_daly_s)
    n += std::snprintf(buf + n, sizeof buf - size_t(n),
                       ", raised to the %.1f s an async save takes to write: never two saves in flight", ci.floor_s);
  if (step_s > 0) n += std::snprintf(buf + n, sizeof buf - size_t(n), ", at %.3f s/step", step_s);
  else n += std::snprintf(buf + n, sizeof buf - size_t(n), ", step time not measured yet");
  n += std::snprintf(buf + n, sizeof buf - size_t(n), "); configured: ");
  if (configured_steps <= 0) {
    std::snprintf(buf + n, sizeof buf - size_t(n), "only at the end of training (checkpoint.every_steps = 0)");
  } else if (step_s > 0) {
    std::snprintf(buf + n, sizeof buf - size_t(n), "every %lld steps = %.1f s", (long long)configured_steps,
                  double(configured_steps) * step_s);
  } else {
    std::snprintf(buf + n, sizeof buf - size_t(n), "every %lld steps", (long long)configured_steps);
  }
  return buf;
}

}  // namespace cairn
