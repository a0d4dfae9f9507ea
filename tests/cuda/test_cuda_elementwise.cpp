// tests/cuda/test_cuda_elementwise.cpp — CUDA vs CPU for the element-wise and flat-buffer ops:
// GELU, residual, dropout (bitwise: same Philox masks and values), AdamW, sumsq_chunks
// (bitwise: index-order double sums), add_inplace.
#include <vector>

#include "../kernels/kernel_test_util.h"
#include "cuda_test_util.h"

namespace cairn::test {
namespace {

constexpr int64_t kN = 100003;  // prime: no block or group-of-4 boundary divides it

class CudaElementwise : public CudaTest {};

TEST_F(CudaElementwise, GeluForwardBackward) {
  const auto x = random_floats(kN, 1, -4.0f, 4.0f), dout = random_floats(kN, 2);
  const auto dinp0 = random_floats(kN, 3);
  std::vector<float> out(kN), dinp = dinp0;
  cpu::gelu_forward(out.data(), x.data(), kN);
  cpu::gelu_backward(dinp.data(), x.data(), dout.data(), kN);
  auto d_x = to_device(x), d_dout = to_device(dout), d_dinp = to_device(dinp0);
  auto d_out = poisoned(kN);
  gpu().gelu_forward(d_out.data(), d_x.data(), kN);
  gpu().gelu_backward(d_dinp.data(), d_x.data(), d_dout.data(), kN);
  expect_matches_cpu(to_host(d_out), out, kFp32Forward, kFp32RelL2Forward, "gelu out");
  expect_matches_cpu(to_host(d_dinp), dinp, kFp32Backward, kFp32RelL2Backward, "gelu dinp");
}

TEST_F(CudaElementwise, ResidualIsBitwise) {
  const auto a = random_floats(kN, 4), b = random_floats(kN, 5);
  std::vector<float> out(kN);
  cpu::residual_forward(out.data(), a.data(), b.data(), kN);
  auto d_a = to_device(a), d_b = to_device(b);
  auto d_out = poisoned(kN);
  gpu().residual_forward(d_out.data(), d_a.data(), d_b.data(), kN);
  EXPECT_TRUE(bitwise_equal(to_host(d_out), out));
}

// The dropout contract: the CUDA mask is the CPU mask, element for element, so forward and
// backward values are bitwise equal (same counters, same scale, same single multiply).
TEST_F(CudaElementwise, DropoutMatchesCpuBitwise) {
  const auto x = random_floats(kN, 6), dinp0 = random_floats(kN, 7);
  for (float p : {0.0f, 0.1f, 0.5f}) {
    DropoutSite drop{p, 0x1234567890abcdefull, 17, 3, 42};
    std::vector<float> out(kN), dinp = dinp0;
    cpu::dropout_forward(out.data(), x.data(), kN, drop);
    cpu::dropout_backward(dinp.data(), x.data(), kN, drop);
    auto d_x = to_device(x), d_dinp = to_device(dinp0);
    auto d_out = poisoned(kN);
    gpu().dropout_forward(d_out.data(), d_x.data(), kN, drop);
    gpu().dropout_backward(d_dinp.data(), d_x.data(), kN, drop);
    EXPECT_TRUE(bitwise_equal(to_host(d_out), out)) << "forward, p = " << p;
    EXPECT_TRUE(bitwise_equal(to_host(d_dinp), dinp)) << "backward, p = " << p;
  }
}

TEST_F(CudaElementwise, DropoutInPlaceAndOddOffsets) {
  // A site, step and micro-batch other than the first, in place, on a length that ends
  // mid-group: the last partial Philox group must still match.
  const int64_t n = 4 * 1001 + 3;
  const auto x = random_floats(n, 8);
  DropoutSite drop{0.3f, 99, 123456, 7, 8 * 11 + 2};
  std::vector<float> want = x;
  cpu::dropout_forward(want.data(), want.data(), n, drop);
  auto d = to_device(x);
  gpu().dropout_forward(d.data(), d.data(), n, drop);
  EXPECT_TRUE(bitwise_equal(to_host(d), want));
}

TEST_F(CudaElementwise, AdamWMatchesCpu) {
  const int64_t n = 40961;
  const auto g = random_floats(n, 9), p0 = random_floats(n, 10);
  const auto m0 = random_floats(n, 11, -0.1f, 0.1f), v0 = random_floats(n, 12, 0.0f, 0.01f);
  auto p = p0, m = m0, v = v0;
  cpu::adamw_update(p.data(), g.data(), m.data(), v.data(), n, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7, 0.5f);
  auto d_p = to_device(p0), d_g = to_device(g), d_m = to_device(m0), d_v = to_device(v0);
  gpu().adamw_update(d_p.data(), d_g.data(), d_m.data(), d_v.data(), n, 3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 7, 0.5f);
  expect_matches_cpu(to_host(d_p), p, kFp32Forward, kFp32RelL2Forward, "params");
  expect_matches_cpu(to_host(d_m), m, kFp32Forward, kFp32RelL2Forward, "m");
  expect_matches_cpu(to_host(d_v), v, kFp32Forward, kFp32RelL2Forward, "v");
}

// kernels.h fixes sumsq_chunks' order (8 lanes by index, a fixed combine tree), so the GPU
// result is the CPU's bit for bit — also for a chunk length with a ragged lane tail.
TEST_F(CudaElementwise, SumsqChunksIsBitwise) {
  for (int64_t chunk : {int64_t(4096), int64_t(1003)}) {
    const int64_t n_chunks = 13;
    const auto x = random_floats(chunk * n_chunks, 13);
    std::vector<double> want(n_chunks);
    cpu::sumsq_chunks(want.data(), x.data(), n_chunks, chunk);
    auto d_x = to_device(x);
    DeviceBuffer<double> d_out(gpu(), n_chunks);
    gpu().sumsq_chunks(d_out.data(), d_x.data(), n_chunks, chunk);
    const auto got = to_host(d_out);
    EXPECT_EQ(0, std::memcmp(got.data(), want.data(), sizeof(double) * n_chunks)) << "chunk " << chunk;
  }
}

TEST_F(CudaElementwise, AddInplaceIsBitwise) {
  const auto a0 = random_floats(kN, 14), b = random_floats(kN, 15);
  auto a = a0;
  cpu::add_inplace(a.data(), b.data(), kN);
  auto d_a = to_device(a0), d_b = to_device(b);
  gpu().add_inplace(d_a.data(), d_b.data(), kN);
  EXPECT_TRUE(bitwise_equal(to_host(d_a), a));
}

}  // namespace
}  // namespace cairn::test
