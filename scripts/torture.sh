#!/usr/bin/env bash
# The random action engine of issue 16 (docs/reliability.md, "Torture"): runs velin_torture
# against one backend for a while with a seed, at low priority. A failure prints the seed to
# replay it with --seed. Builds velin and velin_torture first (BUILD_DIR, default build/).
#   scripts/torture.sh [--seconds N] [--seed S] [--backend local|s3|sftp] [--keep DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$top" -B "$build" -G Ninja -DVELIN_WERROR=ON >/dev/null
fi
cmake --build "$build" --target velin velin_torture >/dev/null
exec nice -n "${TORTURE_NICE:-10}" "$build/tests/velin_torture" --seconds 600 "$@"
