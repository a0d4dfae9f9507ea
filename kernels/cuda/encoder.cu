// kernels/cuda/encoder.cu — token + position embedding on the GPU: encoder_forward/backward.
//
//   forward   out[n, c] = wte[tokens[n], c] + wpe[n % T, c]         one thread per element
//   backward  dwpe[t, c] += dout[b*T + t, c] for b = 0..B-1, in b order (one thread per (t,c))
//             dwte[v, c] += dout[n, c] for every n with tokens[n] == v, in n order
// dwte is the scatter that other implementations do with float atomics (order = timing). Here
// the positions are sorted by token with CUB's stable radix sort (ties keep n order), and
// one thread per (run of equal tokens, column) adds that run's rows in n order. Both orders
// are exactly the CPU kernel's, so dwte and dwpe are bitwise equal to kernels/cpu/encoder.cpp.
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/kernels_cuda.h"

namespace cairn::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kColThreads = 128;

__global__ void encoder_forward_kernel(float* out, const int32_t* tokens, const float* wte, const float* wpe,
                                       int64_t N, int T, int C) {
  const int64_t total = N * C;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = i / C, c = i % C;
    out[i] = wte[int64_t(tokens[n]) * C + c] + wpe[(n % T) * C + c];
  }
}

__global__ void position_backward_kernel(float* dwpe, const float* dout, int B, int T, int C) {
  const int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;  // t * C + c
  if (i >= int64_t(T) * C) return;
  float acc = dwpe[i];
  for (int b = 0; b < B; ++b) acc += dout[int64_t(b) * T * C + i];
  dwpe[i] = acc;
}

__global__ void iota_kernel(int32_t* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = i;
}

// Block (run start i, column tile): if sorted position i starts a run of equal tokens, add
// that run's dout rows (in n order) into dwte[token, c].
__global__ void token_backward_kernel(float* dwte, const float* dout, const int32_t* sorted_tokens,
                                      const int32_t* sorted_rows, int N, int C) {
  const int i = blockIdx.x;
  if (i > 0 && sorted_tokens[i] == sorted_tokens[i - 1]) return;
  const int c = blockIdx.y * blockDim.x + threadIdx.x;
  if (c >= C) return;
  const int32_t token = sorted_tokens[i];
  float* w = dwte + int64_t(token) * C + c;
  float acc = *w;
  for (int j = i; j < N && sorted_tokens[j] == token; ++j) acc += dout[int64_t(sorted_rows[j]) * C + c];
  *w = acc;
}

}  // namespace

void encoder_forward(float* out, const int32_t* tokens, const float* wte, const float* wpe, int B, int T, int C) {
  const int64_t N = int64_t(B) * T;
  encoder_forward_kernel<<<elementwise_blocks(N * C, kThreads), kThreads, 0, stream()>>>(out, tokens, wte, wpe, N, T, C);
  CAIRN_LAUNCH_CHECK();
}

void encoder_backward(float* dwte, float* dwpe, const float* dout, const int32_t* tokens, int B, int T, int C) {
  const int N = B * T;
  position_backward_kernel<<<int(ceil_div(int64_t(T) * C, kThreads)), kThreads, 0, stream()>>>(dwpe, dout, B, T, C);
  CAIRN_LAUNCH_CHECK();

  // Stable sort of (token, n) pairs by token. Scratch: rows in, tokens out, rows out, CUB temp.
  size_t temp_bytes = 0;
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, tokens, static_cast<int32_t*>(nullptr),
                                             static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), N,
                                             0, 32, stream()));
  const size_t ints = size_t(N) * sizeof(int32_t), aligned = (ints + 255) / 256 * 256;
  char* base = static_cast<char*>(scratch(kScratchSort, 3 * aligned + temp_bytes));
  int32_t* rows_in = reinterpret_cast<int32_t*>(base);
  int32_t* sorted_tokens = reinterpret_cast<int32_t*>(base + aligned);
  int32_t* sorted_rows = reinterpret_cast<int32_t*>(base + 2 * aligned);
  void* temp = base + 3 * aligned;
  iota_kernel<<<int(ceil_div(N, kThreads)), kThreads, 0, stream()>>>(rows_in, N);
  CAIRN_LAUNCH_CHECK();
  CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, tokens, sorted_tokens, rows_in, sorted_rows, N, 0, 32,
                                             stream()));
  const dim3 grid(N, unsigned(ceil_div(C, kColThreads)));
  token_backward_kernel<<<grid, kColThreads, 0, stream()>>>(dwte, dout, sorted_tokens, sorted_rows, N, C);
  CAIRN_LAUNCH_CHECK();
}

}  // namespace cairn::cuda
