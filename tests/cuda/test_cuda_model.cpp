// tests/cuda/test_cuda_model.cpp — the whole GPT (models/gpt, one source for both devices)
// on the GPU against the CPU: loss and every parameter gradient of a small model with odd
// shapes and dropout on, and the GPU run repeated gives the same bits.
#include <vector>

#include "../kernels/kernel_test_util.h"
#include "cuda_test_util.h"
#include "models/gpt/gpt.h"

namespace cairn::test {
namespace {

class CudaModel : public CudaTest {};

TEST_F(CudaModel, ForwardBackwardMatchCpu) {
  gpt::GPTConfig cfg;
  cfg.n_layer = 2;
  cfg.n_head = 3;
  cfg.n_embd = 48;
  cfg.seq_len = 37;
  cfg.vocab_size = 101;  // padded to 128
  cfg.dropout = 0.1f;
  const int B = 3, T = 37;
  const gpt::DropoutContext drop{true, 1234, 7, 2};

  gpt::GPT cpu_model(cfg, B, T);
  const size_t total = size_t(cpu_model.layout().total);
  std::vector<float> params(total), grads(total);
  gpt::init_params(cfg, cpu_model.layout(), params.data(), 42);
  const auto tokens = random_tokens(B * T, cfg.vocab_size, 1), targets = random_tokens(B * T, cfg.vocab_size, 2);
  const double cpu_loss = cpu_model.forward(params.data(), tokens.data(), targets.data(), drop);
  cpu_model.backward(params.data(), grads.data(), 0.5f);

  gpt::GPT gpu_model(cfg, B, T, gpu());
  auto d_params = to_device(params);
  std::vector<float> first;
  for (int run = 0; run < 2; ++run) {
    DeviceBuffer<float> d_grads(gpu(), params.size());
    const double gpu_loss = gpu_model.forward(d_params.data(), tokens.data(), targets.data(), drop);
    gpu_model.backward(d_params.data(), d_grads.data(), 0.5f);
    EXPECT_NEAR(gpu_loss, cpu_loss, 1e-5 * std::abs(cpu_loss)) << "run " << run;
    const auto got = to_host(d_grads);
    for (const gpt::ParamTensor& t : cpu_model.layout().tensors) {
      const float* g = got.data() + t.offset;
      const float* w = grads.data() + t.offset;
      EXPECT_LE(relative_l2_error(g, w, t.numel), 1e-4) << t.name;
    }
    if (run == 0) first = got;
    else EXPECT_TRUE(bitwise_equal(got, first)) << "the GPU gradient must repeat bit for bit";
  }
}

}  // namespace
}  // namespace cairn::test
