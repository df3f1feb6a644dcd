#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test (unit and integration) with CTest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/install-deps.sh"
bash "$top/scripts/build.sh" "$@"
cd "${BUILD_DIR:-$top/build}"
# One more test than cores: many tests wait on a server or a child process (2026-11-30: the
# whole suite 253 s at -j2, 192 s at -j3 on 2 cores). TEST_JOBS overrides.
if ! ctest --output-on-failure -j "${TEST_JOBS:-$(( $(nproc) + 1 ))}" --timeout 900; then
  # Each failed test's own words once more, last, where the tail of a CI log shows them.
  while IFS=: read -r _ name; do
    echo "--- $name"
    if [[ $name == unit_tests_shard_* ]]; then
      # A shard of the unit tests prints only its failures (--gtest_brief): its output's end.
      awk -v n="$name" '$0 ~ ("Test: " n "$") {on = 1; next} on && $0 == "<end of output>" {on = 0}
                        on' Testing/Temporary/LastTest.log | cut -c1-240 | tail -n 40
      continue
    fi
    awk -v n="$name" 'index($0, "[ RUN      ] " n) == 1 {on = 1; next}
                      on && (index($0, "[  FAILED  ]") == 1 || $0 == "<end of output>") {on = 0} on' \
      Testing/Temporary/LastTest.log | cut -c1-240 | tail -n 12
  done < Testing/Temporary/LastTestsFailed.log
  exit 1
fi
