#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit and integration) with CTest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/install-deps.sh"
bash "$top/scripts/build.sh" "$@"
cd "${BUILD_DIR:-$top/build}"
ctest --output-on-failure -j2 --timeout 900
