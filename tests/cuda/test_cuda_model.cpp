// tests/cuda/test_cuda_model.cpp — each model family (models/<family>, one source for both
// devices), built through the registry, on the GPU against the CPU: loss and every parameter
// gradient of a small model with odd shapes and dropout on, and the GPU run repeated gives the
// same bits.
#include <vector>

#include "../kernels/kernel_test_util.h"
#include "cuda_test_util.h"
#include "models/model.h"

namespace cairn::test {
namespace {

class CudaModel : public CudaTest {
 protected:
  void check(const ModelConfig& cfg, int B, int T) {
    const models::DropoutContext drop{true, 1234, 7, 2};
    auto cpu_model = models::create(cfg, B, T);
    const models::ParamLayout& layout = cpu_model->layout();
    const size_t total = size_t(layout.total);
    std::vector<float> params(total), grads(total);
    models::init_params(layout, params.data(), 42);
    const auto tokens = random_tokens(B * T, cfg.vocab_size, 1), targets = random_tokens(B * T, cfg.vocab_size, 2);
    const double cpu_loss = cpu_model->forward(params.data(), tokens.data(), targets.data(), drop);
    cpu_model->backward(params.data(), grads.data(), 0.5f);

    auto gpu_model = models::create(cfg, B, T, gpu());
    auto d_params = to_device(params);
    std::vector<float> first;
    for (int run = 0; run < 2; ++run) {
      DeviceBuffer<float> d_grads(gpu(), params.size());
      const double gpu_loss = gpu_model->forward(d_params.data(), tokens.data(), targets.data(), drop);
      gpu_model->backward(d_params.data(), d_grads.data(), 0.5f);
      EXPECT_NEAR(gpu_loss, cpu_loss, 1e-5 * std::abs(cpu_loss)) << cfg.arch << " run " << run;
      const auto got = to_host(d_grads);
      for (const models::ParamTensor& t : layout.tensors) {
        const float* g = got.data() + t.offset;
        const float* w = grads.data() + t.offset;
        EXPECT_LE(relative_l2_error(g, w, t.numel), 1e-4) << cfg.arch << " " << t.name;
      }
      if (run == 0) first = got;
      else EXPECT_TRUE(bitwise_equal(got, first)) << cfg.arch << ": the GPU gradient must repeat bit for bit";
    }
  }
};

TEST_F(CudaModel, ForwardBackwardMatchCpu) {
  ModelConfig cfg;
  cfg.n_layer = 2;
  cfg.n_head = 3;
  cfg.n_embd = 48;
  cfg.seq_len = 37;
  cfg.vocab_size = 101;  // padded to 128
  cfg.dropout = 0.1;
  check(cfg, 3, 37);
}

// Grouped-query attention (6 query heads on 2 key/value heads), untied head, odd sequence.
TEST_F(CudaModel, LlamaForwardBackwardMatchCpu) {
  ModelConfig cfg;
  cfg.arch = "llama";
  cfg.n_layer = 2;
  cfg.n_head = 6;
  cfg.n_kv_head = 2;
  cfg.n_embd = 48;
  cfg.ffn_dim = 100;
  cfg.seq_len = 37;
  cfg.vocab_size = 101;
  cfg.rope_theta = 500.0;
  cfg.tie_embeddings = false;
  cfg.dropout = 0.1;
  check(cfg, 3, 37);
}

}  // namespace
}  // namespace cairn::test
