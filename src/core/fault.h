// core/fault.h — named kill points and delay points for crash testing.
//
// fault_point("ckpt.after_manifest", step) does nothing unless the environment variable
// CAIRN_KILL_AT names that point: CAIRN_KILL_AT="ckpt.after_manifest@20" (optionally
// ":rank=1") makes the process SIGKILL itself there at step 20, exactly like a node dying at
// that instant. Tests use it to hit windows too narrow to reach with an external kill -9
// (mid-save, between manifest and rename, right after commit). The check is one getenv per
// call at a step boundary or inside a save: never in a hot loop.
//
// fault_delay("ckpt.async.write", step) holds a window open (e.g. an asynchronous write in
// flight) for a test to kill or signal the job inside it.
// CAIRN_DELAY_AT="ckpt.async.write@15=/tmp/x/release" waits there until that file exists (a
// value with a '/' is a path, which may not contain ':'): the test decides when the window
// closes, whatever the machine's speed. "ckpt.async.write@15=2000" sleeps 2000 ms instead.
// Either takes ":rank=1" after the value.
// Both may be called from any thread.
#pragma once

#include <cstdint>

namespace cairn {

void fault_point(const char* name, int64_t step);
void fault_delay(const char* name, int64_t step);

}  // namespace cairn
