// tests/kernels/test_op_registry.cpp — the op test registry (op_registry.h) run against the
// tables: every op of the list has a case; on the CPU table each case writes every output,
// touches nothing else, gives the same bits at 1 and 3 threads and matches its float64
// reference where it has one; on the CUDA table (Cuda/CudaOpRegistry.*, skipped visibly
// without a GPU) each case matches the CPU, bitwise where the op promises it, and repeats
// its own bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "kernel_test_util.h"
#include "op_registry.h"

namespace cairn::test {
namespace {

TEST(OpRegistry, EveryOpOfTheListHasACase) {
  std::set<std::string> covered;
  for (const OpCase& c : op_cases()) covered.insert(c.op);
  for (const char* op : kOpNames) EXPECT_TRUE(covered.count(op)) << op << " has no case in tests/kernels/op_cases.cpp";
  std::set<std::string> names;
  for (const OpCase& c : op_cases()) {
    EXPECT_TRUE(names.insert(c.name()).second) << "two cases named " << c.name();
    EXPECT_TRUE(std::find_if(std::begin(kOpNames), std::end(kOpNames),
                             [&](const char* op) { return c.op == op; }) != std::end(kOpNames))
        << c.name() << ": " << c.op << " is not in the op list";
  }
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) { return op_cases()[info.param].name(); }

std::vector<size_t> all_cases() {
  std::vector<size_t> idx(op_cases().size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  return idx;
}

void expect_no_problems(const OpResult& r) {
  for (const std::string& p : r.problems) ADD_FAILURE() << p;
}

class OpRegistry : public ::testing::TestWithParam<size_t> {};

TEST_P(OpRegistry, CpuWritesItsOutputsOnlyAndIsThreadInvariant) {
  const OpCase& c = op_cases()[GetParam()];
  OpResult one, three;
  {
    ScopedThreads threads(1);
    one = run_op_case(cpu_ops(), c);
  }
  {
    ScopedThreads threads(3);
    three = run_op_case(cpu_ops(), c);
  }
  expect_no_problems(one);
  expect_no_problems(three);
  for (size_t i = 0; i < c.tensors.size(); ++i)
    EXPECT_TRUE(one.raw[i] == three.raw[i]) << c.tensors[i].name << ": 1 and 3 threads differ";
  if (c.reference) {
    const OpTensor& t = c.tensors[c.reference_index];
    const std::vector<double> want = c.reference(c.tensors);
    ASSERT_EQ(want.size(), one.values[c.reference_index].size());
    EXPECT_TRUE(all_close(one.values[c.reference_index].data(), want.data(), t.size(), t.tol,
                          t.name + " vs float64 reference"));
  }
}

INSTANTIATE_TEST_SUITE_P(Cpu, OpRegistry, ::testing::ValuesIn(all_cases()), case_name);

class CudaOpRegistry : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    if (!cuda_is_available()) GTEST_SKIP() << "CUDA test skipped: " << cuda_unavailable_reason();
  }
};

TEST_P(CudaOpRegistry, MatchesTheCpuAndRepeats) {
  const OpCase& c = op_cases()[GetParam()];
  if (!c.cuda) GTEST_SKIP() << c.name() << ": not implemented by the CUDA kernel";
  const OpResult want = run_op_case(cpu_ops(), c);
  const OpResult got = run_op_case(cuda_ops(), c), again = run_op_case(cuda_ops(), c);
  expect_no_problems(got);
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const OpTensor& t = c.tensors[i];
    EXPECT_TRUE(got.raw[i] == again.raw[i]) << t.name << ": two CUDA runs differ";
    if (t.role == Role::kIn) continue;
    if (t.match == Match::kBitwise) {
      EXPECT_TRUE(got.raw[i] == want.raw[i]) << t.name << ": not the CPU's bits";
      continue;
    }
    EXPECT_TRUE(all_close(got.values[i].data(), want.values[i].data(), t.size(), t.tol, t.name));
    const double rel = relative_l2_error(got.values[i].data(), want.values[i].data(), t.size());
    EXPECT_LE(rel, t.max_rel_l2) << t.name << ": ‖got-ref‖/‖ref‖ = " << rel;
  }
}

INSTANTIATE_TEST_SUITE_P(Cuda, CudaOpRegistry, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace cairn::test
