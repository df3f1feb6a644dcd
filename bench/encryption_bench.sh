#!/usr/bin/env bash
# What encryption costs a first backup (issue 9: at most +10 %). On the dataset of compare.sh
# (bench/make_dataset.sh), in one run, velin makes first backups into fresh repositories with
# backup.encryption = none, aes-256-gcm and chacha20-poly1305, in turns, $ROUNDS times each
# (default 3), and reports the median wall and CPU time of each and its ratio to none.
# Every encrypted repository is restored once and compared with the dataset (untimed).
#
#   bench/encryption_bench.sh [--small]
#   VELIN=path (default build/src/velin)   WORK=dir (default bench/work-enc)   ROUNDS=3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
small=""
[ "${1:-}" = "--small" ] && small="--small"
VELIN=${VELIN:-$top/build/src/velin}
WORK=${WORK:-$here/work-enc}
ROUNDS=${ROUNDS:-3}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
"$here/make_dataset.sh" "$WORK/data" $small
export VELIN_BENCH_PASSPHRASE="bench passphrase, not a secret"
ciphers="none aes-256-gcm chacha20-poly1305"
for round in $(seq "$ROUNDS"); do
  for c in $ciphers; do
    rm -rf "$WORK/repo-$c"
    cat >"$WORK/velin-$c.toml" <<EOF
[app]
root = "$WORK"
[backup]
include = ["data"]
destination = "$WORK/repo-$c"
prune_after_create = false
encryption = "$c"
password_env = "VELIN_BENCH_PASSPHRASE"
EOF
    /usr/bin/time -o "$WORK/time-$c-$round" -f "%e %U %S" \
      "$VELIN" --config "$WORK/velin-$c.toml" backup create -q
  done
done
for c in aes-256-gcm chacha20-poly1305; do
  rm -rf "$WORK/restore"
  "$VELIN" --config "$WORK/velin-$c.toml" backup restore latest --target "$WORK/restore" --yes -q
  diff -r "$WORK/data" "$WORK/restore/data" >/dev/null || { echo "$c: restore differs" >&2; exit 1; }
done
python3 - "$WORK" "$ROUNDS" $ciphers <<'PY'
import statistics, sys
work, rounds, ciphers = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res = {}
for c in ciphers:
    runs = [list(map(float, open(f"{work}/time-{c}-{r}").read().split())) for r in range(1, rounds + 1)]
    res[c] = (statistics.median(r[0] for r in runs), statistics.median(r[1] + r[2] for r in runs))
print(f"velin first backup, median of {rounds} runs each (restores of the encrypted ones matched)\n")
print("| encryption | wall s | CPU s | wall ÷ none | CPU ÷ none |\n|---|---:|---:|---:|---:|")
for c in ciphers:
    w, u = res[c]
    print(f"| {c} | {w:.2f} | {u:.2f} | {w / res['none'][0]:.3f} | {u / res['none'][1]:.3f} |")
PY
