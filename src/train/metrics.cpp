// train/metrics.cpp — see metrics.h.
#include "train/metrics.h"

#include <cmath>

#include "core/error.h"
#include "core/log.h"
#include "train/tensorboard/tensorboard.h"

namespace cairn {

Metrics::Metrics(const std::string& path, int64_t total_steps, int64_t tokens_per_step)
    : total_steps_(total_steps), tokens_per_step_(tokens_per_step) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), "a");
  CAIRN_CHECK(file_, path, ": cannot open for appending (is the run directory writable?)");
}

Metrics::~Metrics() {
  if (file_) std::fclose(file_);
}

void Metrics::set_tensorboard(std::unique_ptr<TensorBoardWriter> writer) { tensorboard_ = std::move(writer); }

void Metrics::write(const nlohmann::json& record) {
  if (tensorboard_) {
    try {
      tensorboard_->record(record);
    } catch (const Error& e) {
      log_warn("TensorBoard events disabled for the rest of the run: ", e.what());
      tensorboard_.reset();
    }
  }
  if (!file_) return;
  std::string line = record.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

void Metrics::train_step(int64_t step, double loss, double lr, double grad_norm, double ms,
                         const StepPhases& phases, bool print) {
  double tokens_per_s = ms > 0 ? tokens_per_step_ / (ms / 1000.0) : 0.0;
  write({{"step", step}, {"split", "train"}, {"loss", loss}, {"lr", lr}, {"grad_norm", grad_norm},
         {"ms", ms}, {"tokens_per_s", tokens_per_s}, {"fwd_bwd_ms", phases.fwd_bwd_ms},
         {"reduce_ms", phases.reduce_ms}, {"optim_ms", phases.optim_ms}, {"gather_ms", phases.gather_ms}});
  ms_sum_ += ms;
  ++ms_count_;
  if (!print) return;
  double eta = (ms_sum_ / ms_count_) * double(total_steps_ - step) / 1000.0;
  char buf[256];
  std::snprintf(buf, sizeof buf, "step %6lld/%lld | loss %.6f | lr %.3e | norm %.4f | %8.1f ms | %9.0f tok/s | eta %s",
                (long long)step, (long long)total_steps_, loss, lr, grad_norm, ms, tokens_per_s,
                format_duration(eta).c_str());
  log_info_line(buf);
}

void Metrics::val(int64_t step, double loss) {
  write({{"step", step}, {"split", "val"}, {"loss", loss}});
  char buf[128];
  std::snprintf(buf, sizeof buf, "step %6lld/%lld | val loss %.6f", (long long)step, (long long)total_steps_, loss);
  log_info_line(buf);
}

void Metrics::event(const nlohmann::json& record) { write(record); }

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

}  // namespace cairn
