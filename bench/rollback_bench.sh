#!/usr/bin/env bash
# Times `rollback create-version` and `rollback to-version` of two velin builds, A and B, on the
# same synthetic application, the builds taking turns (A first in odd rounds, B first in even
# ones). Each run starts from an empty state dir:
#   first   create-version v1 of the whole tree (every file copied)
#   second  create-version v2 after 1 % of the files changed (the rest hard-linked)
#   back    to-version v1 (page cache dropped first: the release is read cold)
#   forth   to-version v2 (page cache dropped first)
# No stop/start/health commands: the figures are velin's own work. Prints every raw wall time
# and the medians; run as root (drop_caches).
#
#   bench/rollback_bench.sh OLD_VELIN NEW_VELIN     # FILES=20000 ROUNDS=3 WORK=/tmp/velin-rb
set -euo pipefail

A=${1:?usage: rollback_bench.sh VELIN_A VELIN_B}
B=${2:?usage: rollback_bench.sh VELIN_A VELIN_B}
FILES=${FILES:-20000}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:-/tmp/velin-rb}

rm -rf "$WORK"
mkdir -p "$WORK/app"
python3 - "$WORK/app/bin" "$FILES" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(19)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i % 200))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(rng.randbytes(rng.randint(1024, 16384)))
EOF
cat > "$WORK/velin.toml" <<'EOF'
[app]
root = "app"
[rollback]
artifacts = ["bin"]
state_dir = ".velin"
current = "current"
keep_versions = 10
EOF
echo "tree: $FILES files, $(du -sm "$WORK/app/bin" | cut -f1) MB"

drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# Wall seconds of one velin run; a failed run ends the benchmark.
timed() {
  local velin=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$velin" --config "$WORK/velin.toml" -q "$@" > /dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
# Changes 1 % of the files (a byte appended), or puts them back.
touch_files() {
  find "$WORK/app/bin" -type f -name 'f*' | sort | awk 'NR % 100 == 0' |
    while read -r f; do
      if [ "$1" = change ]; then printf x >> "$f"; else truncate -s -1 "$f"; fi
    done
}

declare -A raw
one_run() {
  local name=$1 velin=$2
  rm -rf "$WORK/.velin" "$WORK/app/current"
  raw[$name.first]+=" $(timed "$velin" rollback create-version v1)"
  touch_files change
  raw[$name.second]+=" $(timed "$velin" rollback create-version v2)"
  touch_files back
  drop
  raw[$name.back]+=" $(timed "$velin" rollback to-version v1)"
  drop
  raw[$name.forth]+=" $(timed "$velin" rollback to-version v2)"
}

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then one_run A "$A"; one_run B "$B"; else one_run B "$B"; one_run A "$A"; fi
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {printf "%.2f\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
printf '%-7s | %-28s | %-28s | %s\n' step "A: runs (median)" "B: runs (median)" "B / A"
for step in first second back forth; do
  ma=$(echo "${raw[A.$step]}" | median)
  mb=$(echo "${raw[B.$step]}" | median)
  printf '%-7s | %-28s | %-28s | %.2f\n' "$step" "$(printf '%.2f ' ${raw[A.$step]})($ma)" \
    "$(printf '%.2f ' ${raw[B.$step]})($mb)" "$(echo "$mb / $ma" | bc -l)"
done
rm -rf "$WORK"
