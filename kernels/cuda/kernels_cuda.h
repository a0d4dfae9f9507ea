// kernels/cuda/kernels_cuda.h — the CUDA implementations of kernels.h, namespace cairn::cuda.
//
// Same names, signatures and semantics as cairn::cpu: both are declared from the op list
// CAIRN_OPS (kernels.h is the specification: shapes, the += convention of backward kernels,
// DropoutSite). Every pointer is a device pointer on the current device, and work is queued
// on the legacy default stream, in call order. Callers normally reach these through cuda_ops() (kernels/ops.h).
//
// Determinism: no floating-point atomics anywhere; every reduction has a fixed shape-only
// order (see each .cu file), and cuBLAS runs with a fixed workspace, no atomics and, unless
// set_tf32(true), full fp32 math. So a run gives the same bits every time on one GPU model.
// Bitwise equality with the CPU is promised only for dropout masks (same Philox counters) and
// the encoder backward (same summation order); other ops agree within tests/tolerance.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "kernels/kernels.h"

namespace cairn::cuda {

CAIRN_OPS(CAIRN_DECLARE_OP)

}  // namespace cairn::cuda
