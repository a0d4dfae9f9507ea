// train/fingerprint.cpp — see fingerprint.h. The build's identity (version, commit, compiler
// flags) comes from cairn_build_info.h, which the build regenerates at every build
// (scripts/build_info.cmake); the rest is asked of the machine and libraries at run time.
#include "train/fingerprint.h"

#include <cstdlib>
#include <set>

#include "cairn_build_info.h"
#include "comm/nccl/nccl_comm.h"
#include "core/error.h"
#include "kernels/cpu/gemm.h"
#include "kernels/ops.h"

namespace cairn {
namespace {

// Features the compiler was allowed to use here; every cairn source is built with the same
// -march (CMakeLists.txt), so this is the build's target.
constexpr const char* kBuiltIsa[] = {
#ifdef __AVX512F__
    "avx512f",
#endif
#ifdef __AVX512BW__
    "avx512bw",
#endif
#ifdef __AVX512CD__
    "avx512cd",
#endif
#ifdef __AVX512DQ__
    "avx512dq",
#endif
#ifdef __AVX512VL__
    "avx512vl",
#endif
#ifdef __AVX2__
    "avx2",
#endif
#ifdef __AVX__
    "avx",
#endif
#ifdef __FMA__
    "fma",
#endif
#ifdef __BMI2__
    "bmi2",
#endif
#ifdef __SSE4_2__
    "sse4.2",
#endif
#ifdef __POPCNT__
    "popcnt",
#endif
#ifdef __SSSE3__
    "ssse3",
#endif
    "x86-64"};

// The x86-64 micro-architecture level (the psABI's v1-v4) of a set of features.
template <typename Has>
const char* isa_level(Has has) {
  if (has("avx512f") && has("avx512bw") && has("avx512cd") && has("avx512dq") && has("avx512vl")) return "x86-64-v4";
  if (has("avx2") && has("fma") && has("bmi2") && has("avx")) return "x86-64-v3";
  if (has("sse4.2") && has("popcnt") && has("ssse3")) return "x86-64-v2";
  return "x86-64";
}

// The level this CPU offers, and the level the compiler was allowed to use (-march): both
// matter, the first for OpenBLAS's run-time kernel choice, the second for cairn's own loops.
std::string cpu_isa() {
  __builtin_cpu_init();
  const std::string runs = isa_level([](const char* f) {
    const std::string s = f;
    if (s == "avx512f") return bool(__builtin_cpu_supports("avx512f"));
    if (s == "avx512bw") return bool(__builtin_cpu_supports("avx512bw"));
    if (s == "avx512cd") return bool(__builtin_cpu_supports("avx512cd"));
    if (s == "avx512dq") return bool(__builtin_cpu_supports("avx512dq"));
    if (s == "avx512vl") return bool(__builtin_cpu_supports("avx512vl"));
    if (s == "avx2") return bool(__builtin_cpu_supports("avx2"));
    if (s == "avx") return bool(__builtin_cpu_supports("avx"));
    if (s == "fma") return bool(__builtin_cpu_supports("fma"));
    if (s == "bmi2") return bool(__builtin_cpu_supports("bmi2"));
    if (s == "sse4.2") return bool(__builtin_cpu_supports("sse4.2"));
    if (s == "popcnt") return bool(__builtin_cpu_supports("popcnt"));
    return bool(__builtin_cpu_supports("ssse3"));
  });
  const std::set<std::string> built(std::begin(kBuiltIsa), std::end(kBuiltIsa));
  const std::string target = isa_level([&](const char* f) { return built.count(f) > 0; });
  return runs + " (built for " + target + ")";
}

}  // namespace

std::string version_line() {
  return std::string("cairn ") + kCairnVersion + " (commit " + kCairnCommit + ", " + kCairnCompiler + ")";
}

nlohmann::json determinism_fingerprint(const std::string& device) {
  nlohmann::json f = {{"cairn", kCairnVersion},    {"commit", kCairnCommit}, {"compiler", kCairnCompiler},
                      {"flags", kCairnFlags},      {"blas", cpu::gemm_library()}, {"cpu_isa", cpu_isa()},
                      {"device", "cpu"}};
  if (const char* blas = std::getenv("CAIRN_TEST_FINGERPRINT_BLAS")) f["blas"] = blas;
  if (device == "cuda") {
    std::string d = "cuda: " + cuda_fingerprint();
    if (nccl_is_available()) d += ", " + nccl_version();
    f["device"] = d;
  }
  return f;
}

std::vector<std::string> fingerprint_differences(const nlohmann::json& saved, const nlohmann::json& now) {
  std::set<std::string> keys;
  for (auto it = saved.begin(); it != saved.end(); ++it) keys.insert(it.key());
  for (auto it = now.begin(); it != now.end(); ++it) keys.insert(it.key());
  auto text = [](const nlohmann::json& j, const std::string& k) {
    if (!j.contains(k)) return std::string("(none)");
    return j[k].is_string() ? "'" + j[k].get<std::string>() + "'" : j[k].dump();
  };
  std::vector<std::string> out;
  for (const std::string& k : keys)
    if (!saved.contains(k) || !now.contains(k) || saved[k] != now[k])
      out.push_back(str(k, ": ", text(saved, k), " -> ", text(now, k)));
  return out;
}

std::string fingerprint_warning(const nlohmann::json& state, const nlohmann::json& now, const std::string& dir) {
  if (!state.is_object() || !state.contains("fingerprint") || !state["fingerprint"].is_object()) return "";
  const std::vector<std::string> d = fingerprint_differences(state["fingerprint"], now);
  if (d.empty()) return "";
  std::string what;
  for (const std::string& s : d) what += (what.empty() ? "" : "; ") + s;
  return str("resuming ", dir, " with another build or machine than the one that saved it (", what,
             "): the run continues correctly, but no longer bit for bit as an uninterrupted run");
}

}  // namespace cairn
