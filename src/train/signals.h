// train/signals.h — preemption notices.
//
// SIGTERM, SIGINT and SIGUSR1 only set a flag; the trainer polls it at each step boundary,
// the ranks agree (max over ranks), the pending save is finished, a synchronous checkpoint
// is committed and the process exits with kExitPreempted (75, EX_TEMPFAIL) so a wrapper or
// scheduler can requeue. A second SIGINT exits at once (status 130) for an impatient user.
#pragma once

namespace cairn {

inline constexpr int kExitPreempted = 75;

void install_preemption_handlers();
// Writing past a file-size limit (RLIMIT_FSIZE) then fails with EFBIG, which a save reports
// and survives, instead of SIGXFSZ killing the process.
void ignore_file_size_signal();
bool preemption_requested();
int preemption_signal();  // the first signal received, 0 if none

}  // namespace cairn
