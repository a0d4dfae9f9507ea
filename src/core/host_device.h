// core/host_device.h — CAIRN_HOST_DEVICE marks small inline functions (Philox, the dropout
// mask) that the CPU kernels and the CUDA kernels share, so both compute the same bits from
// one definition. Under nvcc it expands to __host__ __device__, under a C++ compiler to
// nothing. This is the only place the distinction is made.
#pragma once

#if defined(__CUDACC__)
#define CAIRN_HOST_DEVICE __host__ __device__
#else
#define CAIRN_HOST_DEVICE
#endif
