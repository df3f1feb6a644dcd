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
failed=()
for target in "$build"/tests/fuzz/*_fuzz; do
  name=$(basename "$target")
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
  corpus="$build/corpus/$name"
  artifacts="$build/artifacts/$name"
  rm -rf "$corpus" "$artifacts"
  mkdir -p "$corpus" "$artifacts"
  [ -d "$top/tests/fuzz/corpus/$name" ] && cp -r "$top/tests/fuzz/corpus/$name/." "$corpus/"
  echo "== fuzz $name for ${seconds}s"
  log="$build/$name.log"
  if (cd "$build" && "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" >"$log" 2>&1); then
    grep -E '^stat::number_of_executed_units' "$log" || true
  else
    tail -40 "$log"
    echo "fuzz: $name FAILED; the input that did it is in $artifacts/:"
    ls -l "$artifacts"
    failed+=("$name")
    continue
  fi
  if [ "${FUZZ_GROW:-0}" = 1 ]; then
    merged="$build/merged/$name"
    rm -rf "$merged"
    mkdir -p "$merged"
    "$target" -merge=1 -timeout=10 -rss_limit_mb=2048 "$merged" "$corpus" >/dev/null 2>&1
    rm -rf "$top/tests/fuzz/corpus/$name"
    mkdir -p "$top/tests/fuzz/corpus/$name"
    cp -r "$merged/." "$top/tests/fuzz/corpus/$name/"
    echo "fuzz: $name corpus now $(ls "$top/tests/fuzz/corpus/$name" | wc -l) inputs"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}"
  exit 1
fi
echo "fuzz: all targets ran without a crash"
