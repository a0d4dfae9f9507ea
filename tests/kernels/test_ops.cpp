// tests/kernels/test_ops.cpp — the KernelOps tables (kernels/ops.h) on any machine: the CPU
// table is exactly the cairn::cpu kernels over host memory, run.device dispatch, and a clear
// error when CUDA is asked for but unavailable (built without CUDA, or no GPU).
#include <gtest/gtest.h>

#include <vector>

#include "core/error.h"
#include "kernels/ops.h"

namespace cairn {
namespace {

TEST(KernelOps, CpuTableIsTheCpuKernels) {
  const KernelOps& ops = cpu_ops();
  EXPECT_STREQ(ops.device, "cpu");
#define CAIRN_EXPECT_CPU_OP(name, params) EXPECT_EQ(ops.name, &cpu::name) << #name;
  CAIRN_OPS(CAIRN_EXPECT_CPU_OP)
#undef CAIRN_EXPECT_CPU_OP
  EXPECT_EQ(&ops_for_device("cpu"), &ops);
}

TEST(KernelOps, DeviceBufferOnCpuIsZeroedHostMemory) {
  DeviceBuffer<float> buf(cpu_ops(), 1000);
  ASSERT_EQ(buf.size(), 1000u);
  for (size_t i = 0; i < buf.size(); ++i) ASSERT_EQ(buf.data()[i], 0.0f);
  std::vector<float> host(1000, 2.5f), back(1000);
  buf.upload(host.data(), host.size());
  buf.download(back.data(), back.size());
  EXPECT_EQ(back, host);
  buf.zero();
  EXPECT_EQ(buf.data()[999], 0.0f);
  DeviceBuffer<float> moved = std::move(buf);
  EXPECT_EQ(moved.size(), 1000u);
  EXPECT_EQ(buf.size(), 0u);
}

// The CPU's snapshot copy is the plain memcpy of a host snapshot: complete on return.
TEST(KernelOps, CpuMemoryIsHostVisibleAndItsAsyncDownloadIsAMemcpy) {
  const KernelOps& ops = cpu_ops();
  EXPECT_TRUE(ops.host_visible);
  std::vector<float> src(777, 1.25f), dst(777, 0.0f);
  ops.download_async(dst.data(), src.data(), sizeof(float) * src.size());
  EXPECT_EQ(dst, src);
  ops.download_wait();
}

TEST(KernelOps, UnknownDeviceIsAnError) {
  try {
    ops_for_device("tpu");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run.device must be \"cpu\" or \"cuda\""), std::string::npos) << e.what();
  }
}

// Without CUDA (not built, backend library not loadable, or no GPU) asking for it names the
// reason; with a GPU the CUDA table is returned.
TEST(KernelOps, CudaIsAvailableOrSaysWhyNot) {
  if (cuda_is_available()) {
    EXPECT_TRUE(cuda_unavailable_reason().empty());
    EXPECT_STREQ(ops_for_device("cuda").device, "cuda");
    return;
  }
  const std::string why = cuda_unavailable_reason();
  EXPECT_FALSE(why.empty());
  try {
    ops_for_device("cuda");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run.device = cuda: " + why), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cairn
