#!/usr/bin/env bash
# Configures and builds velin into ${BUILD_DIR:-build}. Extra CMake arguments pass through.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
cmake -S "$top" -B "$build" -G Ninja -DVELIN_WERROR=ON "$@" >/dev/null
cmake --build "$build"
