// train/step_profiler.cpp — see step_profiler.h.
#include "train/step_profiler.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "kernels/profile.h"

namespace cairn {

void StepProfiler::step_done(int64_t step, double ms, const StepPhases& phases) {
  if (!enabled_) return;
  if (step == first_step_ + 1) {
    reset_op_profile();  // the warm-up step's kernel times are not counted
    return;
  }
  ++steps_;
  ms_ += ms;
  phases_ += phases;
}

void StepProfiler::report() const {
  if (!enabled_) return;
  if (steps_ == 0) {
    log_info("profile: needs at least 2 steps in this process (the first one is not timed)");
    return;
  }
  const double per_step = ms_ / double(steps_);
  nlohmann::json ops = nlohmann::json::array();
  double kernels_ms = 0;
  std::string table = str("profile over ", steps_, " steps (", per_step, " ms/step, rank ", rank_, "):\n",
                          "  op                              calls/step    ms/step   share\n");
  auto line = [&](const std::string& name, double calls, double ms) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-30s %10.1f %10.2f %6.1f%%\n", name.c_str(), calls, ms, 100.0 * ms / per_step);
    table += buf;
  };
  double in_optim = 0;  // kernels the optimizer phase calls: in the op list already, counted once
  for (const OpTime& t : op_profile()) {
    const double ms = t.seconds * 1e3 / double(steps_);
    kernels_ms += ms;
    if (t.op == "adamw_update" || t.op == "sumsq_chunks") in_optim += ms;
    line(t.op, double(t.calls) / double(steps_), ms);
    ops.push_back({{"op", t.op}, {"calls_per_step", double(t.calls) / double(steps_)}, {"ms_per_step", ms}});
  }
  const double optim = phases_.optim_ms / double(steps_), reduce = phases_.reduce_ms / double(steps_),
               gather = phases_.gather_ms / double(steps_);
  const double optim_rest = std::max(0.0, optim - in_optim);
  line("[reduce-scatter]", 1, reduce);
  line("[grad norm + AdamW]", 1, optim_rest);
  line("[all-gather]", 1, gather);
  line("[other]", 1, std::max(0.0, per_step - kernels_ms - reduce - optim_rest - gather));
  log_info(table);
  metrics_.event({{"event", "profile"}, {"steps", steps_}, {"ms_per_step", per_step}, {"ops", ops},
                  {"reduce_ms", reduce}, {"optim_ms", optim}, {"gather_ms", gather}});
}

}  // namespace cairn
