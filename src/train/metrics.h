// train/metrics.h — what a run reports: the log line every run.log_every steps and one JSON
// object per line in run.dir/metrics.jsonl (rank 0 only). Losses are printed with enough
// digits to compare runs bit for bit (%.17g in the JSON, 6 decimals on the console).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace cairn {

class TensorBoardWriter;  // train/tensorboard/tensorboard.h

// Where a step's time went (ms): forward+backward of this rank's micro-batches (including
// the gradient tree inside the rank), the canonical reduce-scatter, norm + AdamW, and the
// parameter all-gather.
struct StepPhases {
  double fwd_bwd_ms = 0;
  double reduce_ms = 0;
  double optim_ms = 0;
  double gather_ms = 0;

  StepPhases& operator+=(const StepPhases& o) {
    fwd_bwd_ms += o.fwd_bwd_ms;
    reduce_ms += o.reduce_ms;
    optim_ms += o.optim_ms;
    gather_ms += o.gather_ms;
    return *this;
  }
};

class Metrics {
 public:
  // `path` empty: no file (non-zero ranks).
  Metrics(const std::string& path, int64_t total_steps, int64_t tokens_per_step);
  ~Metrics();

  void train_step(int64_t step, double loss, double lr, double grad_norm, double ms, const StepPhases& phases,
                  bool print);
  void val(int64_t step, double loss);
  void event(const nlohmann::json& record);  // e.g. {"event":"checkpoint", ...}
  // Also send every record to TensorBoard (rank 0 with run.tensorboard). A write error
  // disables it with a warning; training goes on.
  void set_tensorboard(std::unique_ptr<TensorBoardWriter> writer);

 private:
  void write(const nlohmann::json& record);
  FILE* file_ = nullptr;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  int64_t total_steps_, tokens_per_step_;
  double ms_sum_ = 0;
  int64_t ms_count_ = 0;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace cairn
