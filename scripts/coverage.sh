#!/usr/bin/env bash
# Measures line and branch coverage of src/: builds velin with gcc --coverage (-O0; the tests
# as usual) in its own build dir, runs the whole suite (unit and integration, ctest -j2), and
# reports with gcovr per file and per module (src/<module>/). Not part of .ci/run: the
# instrumented suite takes several minutes. Counters add up across runs until the next full run.
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
  CC=gcc CXX=g++ cmake -S "$top" -B "$build" -G Ninja -DVELIN_WERROR=ON -DVELIN_COVERAGE=ON \
    -DVELIN_COVERAGE_MODULES="${COVERAGE_MODULES:-}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
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
modules = {}
for f in data["files"]:
    parts = f["filename"].split("/")
    module = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
    m = modules.setdefault(module, [0, 0, 0, 0])
    m[0] += f["line_covered"]; m[1] += f["line_total"]
    m[2] += f["branch_covered"]; m[3] += f["branch_total"]
def pct(a, b):
    return f"{100.0 * a / b:6.1f} %" if b else "     - "
print(f"{'module':<16} {'lines':>17} {'':>8}   {'branches':>17} {'':>8}")
tl = [0, 0, 0, 0]
for module in sorted(modules):
    m = modules[module]
    tl = [x + y for x, y in zip(tl, m)]
    print(f"{module:<16} {m[0]:>8}/{m[1]:<8} {pct(m[0], m[1])}   {m[2]:>8}/{m[3]:<8} {pct(m[2], m[3])}")
print(f"{'total':<16} {tl[0]:>8}/{tl[1]:<8} {pct(tl[0], tl[1])}   {tl[2]:>8}/{tl[3]:<8} {pct(tl[2], tl[3])}")
print()
print("lowest files (lines):")
for f in sorted(data["files"], key=lambda f: f["line_percent"])[:15]:
    print(f"  {f['line_percent']:6.1f} %  {f['line_total'] - f['line_covered']:>4} lines missed  {f['filename']}")
EOF
cat "$out/summary.txt"
echo "per-file report: $out/files.txt"
exit $status
