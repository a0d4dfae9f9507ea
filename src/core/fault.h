// core/fault.h — named kill points for crash testing.
//
// fault_point("ckpt.after_manifest", step) does nothing unless the environment variable
// CAIRN_KILL_AT names that point: CAIRN_KILL_AT="ckpt.after_manifest@20" (optionally
// ":rank=1") makes the process SIGKILL itself there at step 20, exactly like a node dying at
// that instant. Tests use it to hit windows too narrow to reach with an external kill -9
// (mid-save, between manifest and rename, right after commit). The check is one getenv per
// call at a step boundary or inside a save: never in a hot loop.
#pragma once

#include <cstdint>

namespace cairn {

void fault_point(const char* name, int64_t step);

}  // namespace cairn
