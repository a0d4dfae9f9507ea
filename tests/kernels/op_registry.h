// tests/kernels/op_registry.h — one list of op test cases, run against any KernelOps table.
//
// After ggml's test-backend-ops: a case is {op, shapes, dtype, tensors with their roles and
// tolerances, the call}. The same cases run
//   * on the CPU table always (test_op_registry.cpp, OpRegistry.*): outputs fully written,
//     inputs untouched, no write outside any tensor, the same bits at 1 and 3 threads, and a
//     float64 reference where the case has one;
//   * on the CUDA table against the CPU when a GPU is present (Cuda/CudaOpRegistry.*,
//     skipped visibly otherwise): each output within its tolerance or bitwise where the op
//     promises it, the same bits twice;
//   * in timing mode (scripts/bench/ops.sh, bench_ops): per-case median wall time.
// Every tensor lives on the table's device between two sentinel guards of NaN (for int32, a
// fixed bit pattern) that must survive the call; write-only outputs start as NaN, so an
// element the kernel forgets stays NaN and fails; += outputs start as random values.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernels/ops.h"
#include "tolerance.h"

namespace cairn::test {

enum class Elem { kF32, kF64, kI32 };
enum class Role {
  kIn,     // read only: must be unchanged after the call
  kOut,    // write-only output: NaN before the call, every element must be written
  kAccum,  // read and written (+= gradients, in-place updates): random values before
};
// How a CUDA result is compared with the CPU's.
enum class Match { kBitwise, kClose };

struct OpTensor {
  std::string name;
  Elem elem = Elem::kF32;
  Role role = Role::kIn;
  std::vector<double> init;  // the values before the call (kOut: only its size matters)
  Match match = Match::kClose;
  Tolerance tol = kFp32Forward;
  double max_rel_l2 = kFp32RelL2Forward;
  int64_t size() const { return int64_t(init.size()); }
};

// Device pointers of a case's tensors, in the case's order, as the op wants them.
struct OpArgs {
  std::vector<void*> p;
  float* f(size_t i) const { return static_cast<float*>(p.at(i)); }
  double* d(size_t i) const { return static_cast<double*>(p.at(i)); }
  int32_t* i32(size_t i) const { return static_cast<int32_t*>(p.at(i)); }
};

struct OpCase {
  std::string op;     // the CAIRN_OPS name it exercises
  std::string shape;  // e.g. "B=2 T=37 C=51 NH=3 p=0.2", for messages and test names
  std::string dtype = "f32";
  std::vector<OpTensor> tensors;
  std::function<void(const KernelOps&, const OpArgs&)> call;
  // Optional float64 reference: the expected values of tensor `index` after the call,
  // computed from the initial values; compared with that tensor's tolerance on the CPU.
  std::function<std::vector<double>(const std::vector<OpTensor>&)> reference;
  size_t reference_index = 0;
  bool cuda = true;  // false: the CUDA kernel does not implement this case yet (skipped there)
  std::string name() const;  // "<op>_<shape>", only [A-Za-z0-9_]
};

// Every case, in a fixed order (op_cases.cpp).
const std::vector<OpCase>& op_cases();
// The Llama family's ops (op_cases_llama.cpp), appended by op_cases().
void llama_op_cases(std::vector<OpCase>& cases);

// The tensors after one call on `ops`: values[i] as doubles, raw[i] as the device's bytes.
struct OpResult {
  std::vector<std::vector<double>> values;
  std::vector<std::vector<unsigned char>> raw;
  std::vector<std::string> problems;  // sentinel overwritten, input changed, output left NaN
};
OpResult run_op_case(const KernelOps& ops, const OpCase& c);

// Timing mode: the median wall time of `reps` calls (each followed by a synchronize) after
// one warm-up, on buffers set up once. += outputs keep accumulating: fine for timing.
double median_op_seconds(const KernelOps& ops, const OpCase& c, int reps);

}  // namespace cairn::test
