// train/fingerprint.h — the determinism fingerprint: what the bits of a run depend on beyond
// its config and seed (issue 13, docs/determinism.md "What the promise is tied to").
//
// cairn promises the same bits for the same config and seed on one build, one CPU (or GPU)
// model and one set of libraries; an OpenBLAS or cuBLAS update, another -march, another CPU
// or GPU model can change them. Every checkpoint records the fingerprint of the build and
// machine that trained it (manifest state "fingerprint", outside the logical hash), and a
// resume compares it with its own:
//   {"cairn": "0.1.0", "commit": "4b295cc1a2b3", "compiler": "GNU 12.2.0",
//    "flags": "Release: -O3 -DNDEBUG -march=native -ffp-contract=off ...",
//    "blas": "OpenBLAS 0.3.21 ... (Cooperlake kernels)", "cpu_isa": "x86-64-v4 (built for x86-64-v4)",
//    "device": "cpu" | "cuda: NVIDIA H100 ... (sm_90), CUDA runtime 13.0, driver 13.0, cuBLAS 13.0.0, NCCL 2.21.5"}
// Identical: nothing is said. Different: one warning naming each field that changed; the
// run continues correctly, but no longer bit for bit what an uninterrupted run would give.
// A checkpoint without a fingerprint (saved before cairn recorded one) resumes as before.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cairn {

// "cairn 0.1.0 (commit 4b295cc1a2b3, GNU 12.2.0)": the version from CMake's project() and
// the git commit the build was made from (read at build time; "-dirty" when the tree had
// uncommitted changes, "unknown" outside git), for `cairn --version`.
std::string version_line();

// This process's fingerprint for run.device `device` ("cpu" or "cuda"; cuda must be bound).
// CAIRN_TEST_FINGERPRINT_BLAS (tests only) replaces the "blas" field, to stand for a
// library update.
nlohmann::json determinism_fingerprint(const std::string& device);

// "blas: 'A' -> 'B'" per field that differs (a field missing on one side counts), in key
// order; empty when they are identical.
std::vector<std::string> fingerprint_differences(const nlohmann::json& saved, const nlohmann::json& now);

// The warning a resume from `dir` (manifest state `state`) prints when `now` differs from the
// checkpoint's fingerprint, naming what changed; "" when identical or when the checkpoint
// has none (saved by a cairn before fingerprints: nothing to compare).
std::string fingerprint_warning(const nlohmann::json& state, const nlohmann::json& now, const std::string& dir);

}  // namespace cairn
