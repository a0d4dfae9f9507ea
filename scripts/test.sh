#!/usr/bin/env bash
# scripts/test.sh — install dependencies, build, and run the whole test suite (unit tests,
# CLI tests and the multi-process mpirun tests, slow ones included).
#   scripts/test.sh                 everything
#   scripts/test.sh -L slow         only tests labelled slow (any ctest arguments pass through)
#   scripts/test.sh -LE slow        everything but the slow tests
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j 2 "$@"
