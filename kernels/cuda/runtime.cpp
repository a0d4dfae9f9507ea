// kernels/cuda/runtime.cpp — the CUDA side of kernels/ops.h: device memory, the cuBLAS
// handle and its settings, scratch memory, and the cuda_ops() table over cairn::cuda; and
// the entry point of the backend library (kernels/cuda/backend.h) this file is part of.
//
// Memory: cudaMalloc'd once per buffer (no caching allocator), zero-filled; the running total
// is reported by describe() so a run can print what it holds on the GPU at start.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "kernels/cuda/backend.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/kernels_cuda.h"
#include "kernels/ops.h"

namespace cairn {
namespace cuda {
namespace {

constexpr size_t kCublasWorkspaceBytes = size_t(32) << 20;

struct Runtime {
  std::mutex mu;
  cublasHandle_t handle = nullptr;
  void* workspace = nullptr;
  bool tf32 = false;
  void* scratch[kScratchSlots] = {};
  size_t scratch_bytes[kScratchSlots] = {};
  std::unordered_map<void*, size_t> sizes;  // live allocations, for the memory report
  size_t allocated = 0;
};

Runtime& rt() {
  static Runtime r;
  return r;
}

void apply_math_mode(cublasHandle_t h, bool tf32) {
  CUBLAS_CHECK(cublasSetMathMode(h, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
}

}  // namespace

cublasHandle_t cublas() {
  Runtime& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.handle) {
    CUBLAS_CHECK(cublasCreate(&r.handle));
    CUDA_CHECK(cudaMalloc(&r.workspace, kCublasWorkspaceBytes));
    CUBLAS_CHECK(cublasSetWorkspace(r.handle, r.workspace, kCublasWorkspaceBytes));
    CUBLAS_CHECK(cublasSetStream(r.handle, stream()));
    CUBLAS_CHECK(cublasSetAtomicsMode(r.handle, CUBLAS_ATOMICS_NOT_ALLOWED));
    apply_math_mode(r.handle, r.tf32);
  }
  return r.handle;
}

void set_tf32(bool enabled) {
  Runtime& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  r.tf32 = enabled;
  if (r.handle) apply_math_mode(r.handle, enabled);
}

bool tf32_enabled() { return rt().tf32; }

void* scratch(ScratchSlot slot, size_t bytes) {
  Runtime& r = rt();
  if (r.scratch_bytes[slot] < bytes) {
    if (r.scratch[slot]) CUDA_CHECK(cudaFree(r.scratch[slot]));  // synchronizes the device
    r.scratch[slot] = nullptr;
    CUDA_CHECK(cudaMalloc(&r.scratch[slot], bytes));
    r.scratch_bytes[slot] = bytes;
  }
  return r.scratch[slot];
}

// The first call binds this process to a GPU: with several ranks on a node, rank i of the
// node takes device i mod (visible devices) (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or
// SLURM_LOCALID), so buffers are allocated on the right card from the start. Returns it.
bool sync_after_launch() {
  static const bool on = [] {
    const char* v = std::getenv("CAIRN_CUDA_SYNC");
    return v && std::strcmp(v, "0") != 0 && *v;
  }();
  return on;
}

int bind_device_once() {
  static const int device = [] {
    int n = 0;
    CUDA_CHECK(cudaGetDeviceCount(&n));
    int local = 0;
    for (const char* var : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"})
      if (const char* v = std::getenv(var)) {
        local = std::atoi(v);
        break;
      }
    CUDA_CHECK(cudaSetDevice(local % n));
    return local % n;
  }();
  return device;
}

namespace {

// Threads other than the one that bound the device (an async checkpoint's writer) start on
// device 0: select this process's GPU before any call that would otherwise create a context
// there.
void use_bound_device() { CUDA_CHECK(cudaSetDevice(bind_device_once())); }

// Snapshot copies: one side stream and two events. `ready` marks the compute stream at the
// moment of the request, the copy stream waits for it (so the copy sees every queued update
// and later kernels overlap the copy); `done` is recorded after each copy, and since the
// copies run in order on one stream, waiting for the last `done` waits for all of them.
struct SnapshotStream {
  std::mutex mu;
  cudaStream_t stream = nullptr;
  cudaEvent_t ready = nullptr, done = nullptr;
};

SnapshotStream& snapshot_stream() {
  static SnapshotStream s;
  return s;
}

void download_async(void* host, const void* src, size_t bytes) {
  if (!bytes) return;
  use_bound_device();
  SnapshotStream& s = snapshot_stream();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.stream) {
    CUDA_CHECK(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreateWithFlags(&s.ready, cudaEventDisableTiming));
    CUDA_CHECK(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming));
  }
  CUDA_CHECK(cudaEventRecord(s.ready, stream()));
  CUDA_CHECK(cudaStreamWaitEvent(s.stream, s.ready, 0));
  CUDA_CHECK(cudaMemcpyAsync(host, src, bytes, cudaMemcpyDeviceToHost, s.stream));
  CUDA_CHECK(cudaEventRecord(s.done, s.stream));
}

void download_wait() {
  SnapshotStream& s = snapshot_stream();
  cudaEvent_t done = nullptr;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    done = s.done;
  }
  if (!done) return;  // nothing was ever queued
  use_bound_device();
  CUDA_CHECK(cudaEventSynchronize(done));
}

void* device_alloc(size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) return nullptr;
  CUDA_CHECK(cudaMalloc(&p, bytes));
  CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream()));
  Runtime& r = rt();
  std::lock_guard<std::mutex> lock(r.mu);
  r.sizes[p] = bytes;
  r.allocated += bytes;
  return p;
}
// Frees happen in destructors, which must not throw: errors are ignored here (a broken
// context reports itself at the next checked call).
void device_free(void* p) {
  {
    Runtime& r = rt();
    std::lock_guard<std::mutex> lock(r.mu);
    auto it = r.sizes.find(p);
    if (it != r.sizes.end()) {
      r.allocated -= it->second;
      r.sizes.erase(it);
    }
  }
  cudaFree(p);
}
void device_zero(void* p, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream()));
}
void device_copy(void* dst, const void* src, size_t bytes) {
  if (bytes && dst != src) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
}
void device_upload(void* dst, const void* host, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpy(dst, host, bytes, cudaMemcpyHostToDevice));
}
void device_download(void* host, const void* src, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpy(host, src, bytes, cudaMemcpyDeviceToHost));
}
void device_sync() { CUDA_CHECK(cudaStreamSynchronize(stream())); }
void* pinned_alloc(size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) return nullptr;
  use_bound_device();  // may run on a checkpoint writer thread
  CUDA_CHECK(cudaMallocHost(&p, bytes));
  std::memset(p, 0, bytes);
  return p;
}
void pinned_free(void* p) { cudaFreeHost(p); }  // in destructors: must not throw

std::string device_describe() {
  int device = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  size_t free_b = 0, total_b = 0;
  CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  char line[512];
  std::snprintf(line, sizeof line, "cuda:%d %s (sm_%d%d, %d SMs, %.1f GiB, %.1f GiB free), %.3f GiB allocated by cairn%s",
                device, prop.name, prop.major, prop.minor, prop.multiProcessorCount, total_b / 1073741824.0,
                free_b / 1073741824.0, rt().allocated / 1073741824.0, tf32_enabled() ? ", TF32 on" : "");
  return line;
}

}  // namespace

// The library's side of cuda_fingerprint(), cuda_unavailable_reason(), cuda_versions() and
// cuda_ops() (kernels/ops.h), which kernels/cuda_loader.cpp forwards here.
std::string fingerprint() {
  int device = 0, runtime = 0, driver = 0, major = 0, minor = 0, patch = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
  CUDA_CHECK(cudaDriverGetVersion(&driver));
  CUBLAS_CHECK(cublasGetProperty(MAJOR_VERSION, &major));
  CUBLAS_CHECK(cublasGetProperty(MINOR_VERSION, &minor));
  CUBLAS_CHECK(cublasGetProperty(PATCH_LEVEL, &patch));
  return str(prop.name, " (sm_", prop.major, prop.minor, "), CUDA runtime ", runtime / 1000, ".", runtime % 1000 / 10,
             ", driver ", driver / 1000, ".", driver % 1000 / 10, ", cuBLAS ", major, ".", minor, ".", patch);
}

std::string unavailable_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess)
    return str("no usable CUDA device (cudaGetDeviceCount: ", cudaGetErrorString(e),
               "); this needs an NVIDIA GPU with a driver for CUDA 13");
  if (n == 0) return "no CUDA device is visible";
  return "";
}

namespace {
std::string cuda_version_string(int v) { return str(v / 1000, ".", (v % 1000) / 10); }
}  // namespace

std::string versions() {
  std::string out = str("cuda.build=", cuda_version_string(CUDART_VERSION), "\ncublas.build=", CUBLAS_VER_MAJOR, ".",
                        CUBLAS_VER_MINOR, ".", CUBLAS_VER_PATCH, "\n");
  int v = 0;
  out += cudaDriverGetVersion(&v) == cudaSuccess ? str("cuda.driver=", cuda_version_string(v), "\n")
                                                 : std::string("cuda.driver=none\n");
  if (cudaRuntimeGetVersion(&v) == cudaSuccess) out += str("cuda.runtime=", cuda_version_string(v), "\n");
  int major = 0, minor = 0, patch = 0;
  if (cublasGetProperty(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
      cublasGetProperty(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS)
    out += str("cublas.runtime=", major, ".", minor, ".", patch, "\n");
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return out + str("gpus=0 (", cudaGetErrorString(e), ")\n");
  out += str("gpus=", n, "\n");
  for (int d = 0; d < n; ++d) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, d) != cudaSuccess) continue;
    char mem[32];
    std::snprintf(mem, sizeof mem, "%.1f", double(p.totalGlobalMem) / 1073741824.0);
    out += str("gpu.", d, "=", p.name, ", sm_", p.major, p.minor, ", ", mem, " GiB\n");
  }
  return out;
}

namespace {

// Filled by name; the op entries are expanded from the op list (kernels/ops.h).
constexpr KernelOps make_cuda_ops() {
  KernelOps t{};
  t.device = "cuda";
  t.host_visible = false;
  t.alloc = cuda::device_alloc;
  t.free = cuda::device_free;
  t.zero = cuda::device_zero;
  t.copy = cuda::device_copy;
  t.upload = cuda::device_upload;
  t.download = cuda::device_download;
  t.synchronize = cuda::device_sync;
  t.alloc_host = cuda::pinned_alloc;
  t.free_host = cuda::pinned_free;
  t.download_async = cuda::download_async;
  t.download_wait = cuda::download_wait;
  t.describe = cuda::device_describe;
  t.set_tf32 = cuda::set_tf32;
#define CAIRN_CUDA_OP(name, params) t.name = &cuda::name;
  CAIRN_OPS(CAIRN_CUDA_OP)
#undef CAIRN_CUDA_OP
  return t;
}
constexpr KernelOps kCudaOps = make_cuda_ops();
#define CAIRN_ASSERT_CUDA_OP(name, params) \
  static_assert(kCudaOps.name == &cuda::name, "cuda_ops()." #name " must be cuda::" #name);
CAIRN_OPS(CAIRN_ASSERT_CUDA_OP)
#undef CAIRN_ASSERT_CUDA_OP

}  // namespace

const KernelOps& ops() {
  const std::string why = unavailable_reason();
  CAIRN_CHECK(why.empty(), "run.device = cuda: ", why);
  bind_device_once();
  return kCudaOps;
}

}  // namespace cuda
}  // namespace cairn

extern "C" __attribute__((visibility("default"))) const cairn::CudaBackend* cairn_cuda_backend() {
  static const cairn::CudaBackend backend{cairn::kCudaBackendVersion, sizeof(cairn::CudaBackend),
                                          cairn::cuda::unavailable_reason, cairn::cuda::versions,
                                          cairn::cuda::fingerprint, cairn::cuda::ops};
  return &backend;
}
