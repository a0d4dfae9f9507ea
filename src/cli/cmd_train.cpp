// cli/cmd_train.cpp — `cairn train CONFIG`: parse options, start the communicator, run the
// Trainer, and turn errors into the right kind of exit for a multi-rank job:
//  * errors every rank sees identically (bad config, bad world size): rank 0 prints once,
//    all ranks finalize MPI and exit 1;
//  * errors only one rank sees (I/O, a bug): that rank prints with its rank number and
//    aborts the job so the others do not hang in the next collective.
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "comm/comm.h"
#include "core/log.h"
#include "train/config.h"
#include "train/signals.h"
#include "train/trainer.h"

namespace cairn::cli {
namespace {

const char* kTrainHelp =
    "usage: cairn train CONFIG [--set section.key=value ...] [--resume auto|none|PATH]\n"
    "       mpirun -np W cairn train CONFIG ...   (any W from 1 to train.grad_accum: the same bits)\n"
    "\n"
    "  --set K=V        override a config key (repeatable), e.g. --set train.lr=3e-4\n"
    "  --resume MODE    auto (default): newest valid checkpoint in run.dir, else start fresh;\n"
    "                   none: start fresh; PATH: a checkpoint directory or a run directory\n"
    "  --dump-final P   debug: write final params, AdamW m and v (canonical order, fp32) to P\n"
    "  --help-config    list every config key\n"
    "\n"
    "Exits 75 after a preemption signal (SIGTERM, SIGINT, SIGUSR1) once a checkpoint is committed.\n";

}  // namespace

int cmd_train(int argc, char** argv) {
  Args args = parse_args(argc, argv, {{"--help", "--help-config"}, {"--resume", "--dump-final"}, {"--set"}}, "train");
  if (args.has("--help")) {
    std::fputs(kTrainHelp, stdout);
    return 0;
  }
  if (args.has("--help-config")) {
    std::fputs(("config keys:\n" + config_reference()).c_str(), stdout);
    return 0;
  }
  if (args.positional.size() != 1) throw UsageError("train: expected exactly one CONFIG file (see cairn train --help)");

  ignore_file_size_signal();
  std::unique_ptr<Comm> comm = make_default_comm(&argc, &argv);
  set_log_rank(comm->rank(), comm->size());
  int status = 1;
  try {
    Config cfg;
    try {
      cfg = Config::load(args.positional[0], args.all("--set"));
    } catch (const UsageError& e) {
      if (comm->rank() == 0) log_error(e.what());
      comm.reset();
      mpi_finalize();
      return 2;
    } catch (const Error& e) {
      throw CollectiveError(e.what(), e.where());
    }
    TrainOptions opts;
    opts.resume = args.get("--resume", "auto");
    opts.dump_final = args.get("--dump-final");
    status = Trainer(std::move(cfg), *comm, opts).run();
  } catch (const CollectiveError& e) {
    if (comm->rank() == 0) log_error(e.what());
    comm.reset();
    mpi_finalize();
    return 1;
  } catch (const std::exception& e) {
    if (comm->size() == 1) throw;
    log_error(e.what());
    comm->abort(1);
  }
  comm.reset();
  mpi_finalize();
  return status;
}

}  // namespace cairn::cli
