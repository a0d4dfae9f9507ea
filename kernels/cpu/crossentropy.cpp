// kernels/cpu/crossentropy.cpp — fused softmax + cross-entropy over a padded vocabulary:
// crossentropy_forward_backward.
//
// One row per parallel tile. Per row: max over the V real columns, exps through the
// vectorized exp of vector_math.h, their sum in double over fixed lanes, the loss in double.
// The backward writes (not adds) dlogits for the real columns and zeros the padding
// [V, Vp); it may run in place over the logits (the target logit is read first). The loss
// bits do not depend on whether dlogits is requested.
#include <cmath>
#include <cstring>

#include "core/parallel.h"
#include "kernels/cpu/vector_math.h"
#include "kernels/kernels.h"

namespace cairn::cpu {
namespace {
constexpr int64_t kBlock = 256;  // exps computed per block; a multiple of vec::kLanes
static_assert(kBlock % vec::kLanes == 0);
}  // namespace

void crossentropy_forward_backward(float* losses, float* dlogits, const float* logits,
                                   const int32_t* targets, int N, int V, int Vp, float dloss) {
  parallel_for(N, [&](int64_t n) {
    const float* x = logits + n * Vp;
    const int32_t target = targets[n];
    const float x_target = x[target];
    const float max = vec::max_f32(x, V);

    // exps go to the dlogits row when there is one (kept for the gradient), else to scratch.
    float* exps = dlogits ? dlogits + n * Vp : nullptr;
    float scratch[kBlock];
    double acc[vec::kLanes] = {};
    for (int64_t j = 0; j < V; j += kBlock) {
      const int64_t len = V - j < kBlock ? V - j : kBlock;
      float* e = exps ? exps + j : scratch;
      vec::exp_shifted(e, x + j, len, max);
      vec::accumulate_lanes(acc, e, len);
    }
    const double sum = vec::combine_lanes(acc);
    losses[n] = float(std::log(sum) - (double(x_target) - double(max)));

    if (exps) {
      // (softmax - onehot) * dloss, one operation per pass. The bits equal those of the fused
      // (e * inv_sum - indicator) * dloss, which is alignment-invariant too under
      // -ffp-contract=off: vectorized and scalar loops round each IEEE operation the same.
      // What did depend on the row's alignment was an older exp_shifted built on Eigen's array
      // exp (scalar std::exp on the unaligned head); tests/kernels/test_alignment.cpp guards it.
      const float inv_sum = float(1.0 / sum), scale = dloss;
      for (int64_t j = 0; j < V; ++j) exps[j] *= inv_sum;
      exps[target] -= 1.0f;
      for (int64_t j = 0; j < V; ++j) exps[j] *= scale;
      std::memset(exps + V, 0, int64_t(Vp - V) * sizeof(float));
    }
  });
}

}  // namespace cairn::cpu
