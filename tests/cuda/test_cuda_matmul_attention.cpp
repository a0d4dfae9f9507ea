// tests/cuda/test_cuda_matmul_attention.cpp — CUDA vs CPU for the cuBLAS products (Conv1D and
// tied-head layouts, forward and the += backward), causal attention (with and without
// dropout; att saved before dropout) and the fused softmax cross-entropy (padded vocabulary,
// in place), plus repeatability: the same call twice gives the same bits. Before every call,
// write-only outputs are NaN and accumulated (+=) ones hold fresh random values, so a kernel
// that writes nothing (or writes what was already there) fails against the CPU.
#include <vector>

#include "../kernels/kernel_test_util.h"
#include "cuda_test_util.h"

namespace cairn::test {
namespace {

class CudaMatmul : public CudaTest {};
class CudaAttention : public CudaTest {};
class CudaCrossEntropy : public CudaTest {};

TEST_F(CudaMatmul, ForwardBackwardMatchCpu) {
  const int N = 113, IC = 67, OC = 157;
  const auto x = random_floats(int64_t(N) * IC, 1), w = random_floats(int64_t(IC) * OC, 2);
  const auto bias = random_floats(OC, 3), dout = random_floats(int64_t(N) * OC, 4);
  const auto dx0 = random_floats(int64_t(N) * IC, 5), dw0 = random_floats(int64_t(IC) * OC, 6);
  const auto db0 = random_floats(OC, 7);
  for (bool with_bias : {true, false}) {
    std::vector<float> out(size_t(N) * OC);
    cpu::matmul_forward(out.data(), x.data(), w.data(), with_bias ? bias.data() : nullptr, N, IC, OC);
    auto dx = dx0, dw = dw0, db = db0;
    cpu::matmul_backward(dx.data(), dw.data(), with_bias ? db.data() : nullptr, dout.data(), x.data(), w.data(), N,
                         IC, OC);
    auto d_x = to_device(x), d_w = to_device(w), d_bias = to_device(bias), d_dout = to_device(dout);
    auto d_out = poisoned(out.size());
    auto d_dx = to_device(dx0), d_dw = to_device(dw0), d_db = to_device(db0);
    gpu().matmul_forward(d_out.data(), d_x.data(), d_w.data(), with_bias ? d_bias.data() : nullptr, N, IC, OC);
    gpu().matmul_backward(d_dx.data(), d_dw.data(), with_bias ? d_db.data() : nullptr, d_dout.data(), d_x.data(),
                          d_w.data(), N, IC, OC);
    expect_matches_cpu(to_host(d_out), out, kFp32Backward, kFp32RelL2Forward, "out");
    expect_matches_cpu(to_host(d_dx), dx, kFp32Backward, kFp32RelL2Backward, "dinp");
    expect_matches_cpu(to_host(d_dw), dw, kFp32Backward, kFp32RelL2Backward, "dweight");
    expect_matches_cpu(to_host(d_db), db, kFp32Backward, kFp32RelL2Backward, "dbias");
  }
}

TEST_F(CudaMatmul, TiedHeadMatchesCpu) {
  const int N = 71, IC = 53, OC = 320;  // OC: a padded vocabulary
  const auto x = random_floats(int64_t(N) * IC, 8), w = random_floats(int64_t(OC) * IC, 9);
  const auto dout = random_floats(int64_t(N) * OC, 10);
  const auto dx0 = random_floats(int64_t(N) * IC, 11), dw0 = random_floats(int64_t(OC) * IC, 12);
  std::vector<float> out(size_t(N) * OC);
  cpu::matmul_nt_forward(out.data(), x.data(), w.data(), N, IC, OC);
  auto dx = dx0, dw = dw0;
  cpu::matmul_nt_backward(dx.data(), dw.data(), dout.data(), x.data(), w.data(), N, IC, OC);
  auto d_x = to_device(x), d_w = to_device(w), d_dout = to_device(dout);
  auto d_out = poisoned(out.size());
  auto d_dx = to_device(dx0), d_dw = to_device(dw0);
  gpu().matmul_nt_forward(d_out.data(), d_x.data(), d_w.data(), N, IC, OC);
  gpu().matmul_nt_backward(d_dx.data(), d_dw.data(), d_dout.data(), d_x.data(), d_w.data(), N, IC, OC);
  expect_matches_cpu(to_host(d_out), out, kFp32Backward, kFp32RelL2Forward, "out");
  expect_matches_cpu(to_host(d_dx), dx, kFp32Backward, kFp32RelL2Backward, "dinp");
  expect_matches_cpu(to_host(d_dw), dw, kFp32Backward, kFp32RelL2Backward, "dweight");
}

TEST_F(CudaMatmul, BackwardWithoutDinpAndRepeatable) {
  const int N = 97, IC = 31, OC = 43;
  const auto x = random_floats(int64_t(N) * IC, 13), w = random_floats(int64_t(IC) * OC, 14);
  const auto dout = random_floats(int64_t(N) * OC, 15);
  const auto dw0 = random_floats(int64_t(IC) * OC, 16), db0 = random_floats(OC, 17);
  auto dw = dw0, db = db0;
  cpu::matmul_backward(nullptr, dw.data(), db.data(), dout.data(), x.data(), w.data(), N, IC, OC);
  auto d_x = to_device(x), d_w = to_device(w), d_dout = to_device(dout);
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    auto d_dw = to_device(dw0), d_db = to_device(db0);  // += targets: fresh non-zero values each run
    gpu().matmul_backward(nullptr, d_dw.data(), d_db.data(), d_dout.data(), d_x.data(), d_w.data(), N, IC, OC);
    auto got = to_host(d_dw);
    const auto got_db = to_host(d_db);
    expect_matches_cpu(got, dw, kFp32Backward, kFp32RelL2Backward, "dweight");
    expect_matches_cpu(got_db, db, kFp32Backward, kFp32RelL2Backward, "dbias");
    got.insert(got.end(), got_db.begin(), got_db.end());
    if (run == 0) first = got;
    else EXPECT_TRUE(bitwise_equal(got, first));
  }
}

struct AttentionCase {
  int B, T, C, NH;
  float p;
};

TEST_F(CudaAttention, ForwardBackwardMatchCpu) {
  for (const AttentionCase& k : {AttentionCase{2, 37, 51, 3, 0.0f}, AttentionCase{3, 67, 48, 4, 0.0f},
                                 AttentionCase{2, 37, 51, 3, 0.2f}, AttentionCase{1, 130, 64, 2, 0.1f}}) {
    SCOPED_TRACE(::testing::Message() << "B=" << k.B << " T=" << k.T << " C=" << k.C << " NH=" << k.NH << " p=" << k.p);
    const int B = k.B, T = k.T, C = k.C, NH = k.NH;
    const int64_t n_qkv = int64_t(B) * T * 3 * C, n_out = int64_t(B) * T * C, n_att = int64_t(B) * NH * T * T;
    const DropoutSite drop{k.p, 77, 5, 1, 9};
    const auto qkv = random_floats(n_qkv, 1, -2.0f, 2.0f), dout = random_floats(n_out, 2);
    const auto dqkv0 = random_floats(n_qkv, 3);
    std::vector<float> out(n_out), att(n_att);
    cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(B, T, C, NH), drop);
    auto dqkv = dqkv0;
    cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), mha_shape(B, T, C, NH), drop);

    auto d_qkv = to_device(qkv), d_dout = to_device(dout), d_dqkv = to_device(dqkv0);
    auto d_out = poisoned(n_out), d_att = poisoned(n_att);
    gpu().attention_forward(d_out.data(), d_att.data(), d_qkv.data(), mha_shape(B, T, C, NH), drop);
    expect_matches_cpu(to_host(d_att), att, kFp32Forward, kFp32RelL2Forward, "att");
    expect_matches_cpu(to_host(d_out), out, kFp32Backward, kFp32RelL2Forward, "out");
    gpu().attention_backward(d_dqkv.data(), d_dout.data(), d_qkv.data(), d_att.data(), mha_shape(B, T, C, NH), drop);
    expect_matches_cpu(to_host(d_dqkv), dqkv, kFp32Backward, kFp32RelL2Backward, "dqkv");
  }
}

TEST_F(CudaAttention, Repeatable) {
  const int B = 2, T = 45, C = 36, NH = 3;
  const int64_t n_qkv = int64_t(B) * T * 3 * C, n_out = int64_t(B) * T * C, n_att = int64_t(B) * NH * T * T;
  const DropoutSite drop{0.1f, 5, 2, 0, 1};
  const auto qkv = random_floats(n_qkv, 4), dout = random_floats(n_out, 5), dqkv0 = random_floats(n_qkv, 6);
  std::vector<float> out(n_out), att(n_att);
  cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(B, T, C, NH), drop);
  auto dqkv = dqkv0;
  cpu::attention_backward(dqkv.data(), dout.data(), qkv.data(), att.data(), mha_shape(B, T, C, NH), drop);
  auto d_qkv = to_device(qkv), d_dout = to_device(dout);
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    auto d_out = poisoned(n_out), d_att = poisoned(n_att);
    auto d_dqkv = to_device(dqkv0);  // += target: fresh non-zero values each run
    gpu().attention_forward(d_out.data(), d_att.data(), d_qkv.data(), mha_shape(B, T, C, NH), drop);
    gpu().attention_backward(d_dqkv.data(), d_dout.data(), d_qkv.data(), d_att.data(), mha_shape(B, T, C, NH), drop);
    auto got = to_host(d_out);
    const auto dq = to_host(d_dqkv);
    expect_matches_cpu(got, out, kFp32Backward, kFp32RelL2Forward, "out");
    expect_matches_cpu(to_host(d_att), att, kFp32Forward, kFp32RelL2Forward, "att");
    expect_matches_cpu(dq, dqkv, kFp32Backward, kFp32RelL2Backward, "dqkv");
    got.insert(got.end(), dq.begin(), dq.end());
    if (run == 0) first = got;
    else EXPECT_TRUE(bitwise_equal(got, first));
  }
}

TEST_F(CudaCrossEntropy, ForwardBackwardMatchCpuInPlace) {
  const int N = 53, V = 251, Vp = 256;
  auto logits = random_floats(int64_t(N) * Vp, 1, -6.0f, 6.0f);
  for (int n = 0; n < N; ++n)
    for (int j = V; j < Vp; ++j) logits[size_t(n) * Vp + j] = 1e30f;  // padding must be ignored
  const auto targets = random_tokens(N, V, 2);
  const float dloss = 1.0f / N;
  std::vector<float> losses(N), dlogits(size_t(N) * Vp);
  cpu::crossentropy_forward_backward(losses.data(), dlogits.data(), logits.data(), targets.data(), N, V, Vp, dloss);

  auto d_targets = to_device(targets);
  auto d_logits = to_device(logits), d_losses = poisoned(N);
  // loss only
  gpu().crossentropy_forward_backward(d_losses.data(), nullptr, d_logits.data(), d_targets.data(), N, V, Vp, 0.0f);
  expect_matches_cpu(to_host(d_losses), losses, kFp32Forward, kFp32RelL2Forward, "losses (no grad)");
  // loss and gradient, in place over the logits; d_losses poisoned again, or it would still
  // hold the right losses from the call above
  d_losses = poisoned(N);
  gpu().crossentropy_forward_backward(d_losses.data(), d_logits.data(), d_logits.data(), d_targets.data(), N, V, Vp,
                                      dloss);
  expect_matches_cpu(to_host(d_losses), losses, kFp32Forward, kFp32RelL2Forward, "losses");
  expect_matches_cpu(to_host(d_logits), dlogits, kFp32Backward, kFp32RelL2Backward, "dlogits");
}

}  // namespace
}  // namespace cairn::test
