#!/usr/bin/env bash
# Measures line, function and branch coverage of src/: builds velin with gcc --coverage (-O0;
# the tests as usual) in its own build dir, runs the whole suite (unit and integration, ctest
# -j2), and reports with gcovr per file and per module (src/<module>/). Lines between
# GCOVR_EXCL_START and GCOVR_EXCL_STOP are left out (only what gcov cannot count: a child
# between fork and exec). Not part of .ci/run: the instrumented suite takes several minutes.
# Counters add up across runs until the next full run.
#
#   bash scripts/coverage.sh                      # build, run every test, report
#   bash scripts/coverage.sh --tests 'Pruner|Prune'   # run only tests matching (ctest -R) on
#                                                 # top of the counters already there, report
#   bash scripts/coverage.sh --report             # report the counters already there
#
# Writes build-cov/coverage/{summary.txt,files.txt,coverage.json} and prints the summary.
# Extra arguments after -- pass through to CMake. Exit status: ctest's (a failing test fails
# the script after the report).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-cov}
mode=full
tests=""
cmake_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tests) mode=some; tests="$2"; shift 2 ;;
    --report) mode=report; shift ;;
    --) shift; cmake_args=("$@"); break ;;
    *) echo "coverage.sh: unknown argument '$1' (see the comment at the top of $0)" >&2; exit 2 ;;
  esac
done

command -v gcovr >/dev/null || bash "$top/scripts/install-deps.sh"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)

status=0
if [ "$mode" != report ]; then
  # VELIN_COVERAGE instruments src/ only (at -O0); the tests build as in any build.
  # COVERAGE_MODULES="repo;backup" instruments only those modules of src/ (a quicker build).
  # One CTest test per unit test (no shards), so that --tests picks unit tests by name too.
  CC=gcc CXX=g++ cmake -S "$top" -B "$build" -G Ninja -DVELIN_WERROR=ON -DVELIN_COVERAGE=ON \
    -DVELIN_COVERAGE_MODULES="${COVERAGE_MODULES:-}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVELIN_UNIT_TEST_SHARDS=0 \
    "${launcher[@]}" "${cmake_args[@]}" >/dev/null
  cmake --build "$build"
  if [ "$mode" = full ]; then
    # A full run starts from zero; a partial one adds to what is there.
    find "$build" -name '*.gcda' -delete
    (cd "$build" && ctest -j2 --timeout 900 --output-on-failure) || status=$?
  else
    (cd "$build" && ctest -j2 --timeout 900 --output-on-failure -R "$tests") || status=$?
  fi
fi

out="$build/coverage"
mkdir -p "$out"
# Counters merged from many velin processes at once can trip gcov 12's output parser on a few
# lines; those lines are skipped rather than failing the whole report.
filters=(--filter "$top/src/")
if [ -n "${COVERAGE_MODULES:-}" ]; then
  filters=()
  for m in ${COVERAGE_MODULES//;/ }; do filters+=(--filter "$top/src/$m/"); done
fi
gcovr --root "$top" --object-directory "$build" "${filters[@]}" \
  --gcov-ignore-parse-errors --exclude-unreachable-branches --exclude-throw-branches \
  --json-summary "$out/coverage.json" --json-summary-pretty \
  --txt "$out/files.txt" --print-summary >/dev/null
python3 - "$out/coverage.json" >"$out/summary.txt" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
keys = ["line", "function", "branch"]
modules = {}
for f in data["files"]:
    parts = f["filename"].split("/")
    module = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    m = modules.setdefault(module, [0] * 6)
    for i, k in enumerate(keys):
        m[2 * i] += f[k + "_covered"]; m[2 * i + 1] += f[k + "_total"]
def pct(a, b):
    return f"{100.0 * a / b:6.1f} %" if b else "     - "
def row(name, m):
    cells = [f"{m[2 * i]:>7}/{m[2 * i + 1]:<7} {pct(m[2 * i], m[2 * i + 1])}" for i in range(3)]
    return f"{name:<14} " + "   ".join(cells)
print(f"{'module':<14} {'lines':<24}   {'functions':<24}   {'branches':<24}")
total = [0] * 6
for module in sorted(modules):
    total = [x + y for x, y in zip(total, modules[module])]
    print(row(module, modules[module]))
print(row("total", total))
print()
print("lowest files (lines):")
for f in sorted(data["files"], key=lambda f: f["line_percent"])[:15]:
    print(f"  {f['line_percent']:6.1f} %  {f['line_total'] - f['line_covered']:>4} lines missed  {f['filename']}")
EOF
cat "$out/summary.txt"
echo "per-file report: $out/files.txt"
exit $status
