#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer, warnings as errors, and runs each for FUZZ_SECONDS (default 20)
# on a copy of its committed corpus (tests/fuzz/corpus/<target>/). Any crash, sanitizer
# report, timeout or out-of-memory fails the script (exit 1) after every target ran, naming the
# target and the input that did it (kept in $build/artifacts/<target>/).
#
#   FUZZ_SECONDS=600 FUZZ_GROW=1 bash scripts/fuzz.sh   # long run, then merge what found new
#                                                       # coverage into the committed corpus
#   FUZZ_TARGETS="s3_xml_fuzz" bash scripts/fuzz.sh     # only these targets
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
# A build dir configured already with -DVELIN_FUZZ=ON (CI's clang sanitizer build, which also
# builds the tests) is used as it is; otherwise a fuzz-only build is configured here.
if ! grep -q '^VELIN_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  CC=clang CXX=clang++ cmake -S "$top" -B "$build" -G Ninja -DVELIN_FUZZ=ON -DVELIN_TESTS=OFF \
    -DVELIN_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build"
# One target: its corpus copied, run for $seconds, its result printed; exit status 1 when it
# crashed. Targets run FUZZ_JOBS at a time (default: one per core).
fuzz_one() {
  local target=$1 name corpus artifacts log
  name=$(basename "$target")
  corpus="$build/corpus/$name"
  artifacts="$build/artifacts/$name"
  log="$build/$name.log"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  [ -d "$top/tests/fuzz/corpus/$name" ] && cp -r "$top/tests/fuzz/corpus/$name/." "$corpus/"
  if (cd "$build" && "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$log" 2>&1); then
    echo "== fuzz $name for ${seconds}s: $(grep -E '^stat::number_of_executed_units' "$log" || true)"
  else
    echo "== fuzz $name for ${seconds}s"
    tail -40 "$log"
    echo "fuzz: $name FAILED; the input that did it is in $artifacts/:"
    ls -l "$artifacts"
    return 1
  fi
  if [ "${FUZZ_GROW:-0}" = 1 ]; then
    local merged="$build/merged/$name"
    rm -rf "$merged"
    mkdir -p "$merged"
    "$target" -merge=1 -timeout=10 -rss_limit_mb=2048 "$merged" "$corpus" >/dev/null 2>&1
    rm -rf "$top/tests/fuzz/corpus/$name"
    mkdir -p "$top/tests/fuzz/corpus/$name"
    cp -r "$merged/." "$top/tests/fuzz/corpus/$name/"
    echo "fuzz: $name corpus now $(ls "$top/tests/fuzz/corpus/$name" | wc -l) inputs"
  fi
}

jobs=${FUZZ_JOBS:-$(nproc)}
declare -A running=()  # pid -> target name
failed=()
reap() {  # waits for one running target; records it when it failed
  local pid rc=0
  wait -n -p pid "${!running[@]}" || rc=$?
  if [ "$rc" -ne 0 ]; then failed+=("${running[$pid]}"); fi
  unset "running[$pid]"
}
for target in "$build"/tests/fuzz/*_fuzz; do
  name=$(basename "$target")
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  while [ "${#running[@]}" -ge "$jobs" ]; do reap; done
  fuzz_one "$target" &
  running[$!]=$name
done
while [ "${#running[@]}" -gt 0 ]; do reap; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets ran without a crash"
