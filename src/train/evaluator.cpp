// train/evaluator.cpp — see evaluator.h.
#include "train/evaluator.h"

#include <vector>

#include "data/loader.h"

namespace cairn {

double Evaluator::loss(const float* params) {
  const int W = comm_.size(), rank = comm_.rank();
  const int E = cfg_.train.eval_batches, m = cfg_.train.micro_batch, T = cfg_.model.seq_len;
  std::vector<double> losses(E, 0.0);
  std::vector<int64_t> counts(W), displs(W);
  for (int r = 0; r < W; ++r) {
    displs[r] = int64_t(E) * r / W * int64_t(sizeof(double));
    counts[r] = int64_t(E) * (r + 1) / W * int64_t(sizeof(double)) - displs[r];
  }
  std::vector<int32_t> inputs(size_t(m) * T), targets(size_t(m) * T);
  for (int e = E * rank / W; e < E * (rank + 1) / W; ++e) {
    data::fill_sequences(*val_, int64_t(e) * m, m, inputs.data(), targets.data());
    losses[e] = model_.forward(params, inputs.data(), targets.data(), models::DropoutContext{});
  }
  comm_.allgatherv_bytes(losses.data() + displs[rank] / sizeof(double), losses.data(), counts, displs);
  double sum = 0;
  for (double l : losses) sum += l;
  return sum / E;
}

}  // namespace cairn
