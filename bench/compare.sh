#!/usr/bin/env bash
# Times velin (plain and encrypted), restic and borg on the same deterministic dataset: first
# backup, no-change backup, backup after a 1 % change, restore, verify. The contenders take
# turns (the order rotates every round), every step runs ROUNDS times per contender, and the
# page cache is dropped before every restore and verify of every contender. For each run:
# wall time, CPU (user+sys), peak RSS (GNU time), repository size; then the medians and the
# ratios of velin to restic. Prints a Markdown report and writes it to
# bench/results/<date>.md. See bench/README.md.
#
#   bench/compare.sh [--small|--medium] [--keep]
#     --small   ~200 MB dataset instead of ~2 GiB (for quick runs while developing)
#     --medium  ~0.55 GiB dataset
#     --keep    keep the work directory (dataset, repositories) afterwards
#   VELIN=path          velin binary (default build/src/velin)
#   TOOLS="velin velin-aes restic"   contenders (also: velin-chacha, borg)
#   ROUNDS=3            runs of every step per contender
#   WORK=dir            work directory (default bench/work; needs the dataset's size times
#                       ROUNDS x contenders + 3: every restore stays until the end)
#   KEEP_RESTORES=1     0: delete a round's restores after it (less disk, see below)
#   VELIN_STRATEGY=incremental  strategy of velin's later backups ("full" re-reads)
#   DROP_CACHES=1       0: keep the page cache warm for restore and verify (not root)
#   SETTLE=65           seconds between deleting files and the next timed restore (see below)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
size=""
keep=0
for arg in "$@"; do
  case $arg in
    --small | --medium) size=$arg ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--small|--medium] [--keep]" >&2; exit 2 ;;
  esac
done
VELIN=${VELIN:-$top/build/src/velin}
TOOLS=${TOOLS:-velin velin-aes restic}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:-$here/work}
VELIN_STRATEGY=${VELIN_STRATEGY:-incremental}
DROP_CACHES=${DROP_CACHES:-1}
SETTLE=${SETTLE:-65}
KEEP_RESTORES=${KEEP_RESTORES:-1}

# --- prerequisites: the peers and GNU time come from Debian; no network use beyond apt ---
need=()
for pair in /usr/bin/time:time python3:python3; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
[[ " $TOOLS " == *" restic "* ]] && ! command -v restic >/dev/null && need+=(restic)
[[ " $TOOLS " == *" borg "* ]] && ! command -v borg >/dev/null && need+=(borgbackup)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ " $TOOLS " == *" velin"* ]] && [ ! -x "$VELIN" ]; then
  echo "no velin binary at $VELIN (build it, or set VELIN=path)" >&2
  exit 2
fi
if [ "$DROP_CACHES" = 1 ] && ! { sync && echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
  echo "cannot drop the page cache (needs root); DROP_CACHES=0 measures with a warm cache" >&2
  exit 2
fi
drop_caches() { if [ "$DROP_CACHES" = 1 ]; then sync; echo 3 >/proc/sys/vm/drop_caches; fi; }

# ext4 without a journal (this kind of VM) skips inodes freed in the last 60 s (300 s while
# their inode table block is dirty) when it allocates one, reading the block for each: a restore
# right after `rm -rf` of a large tree pays several times its system time for it
# (bench/README.md). So nothing is deleted between two timed restores: every restore goes to a
# fresh directory and stays there until the script ends (KEEP_RESTORES=1: 65 s after deleting
# 60,000 files was not enough on 2026-11-30 — velin's system time 3.5 s against 0.7 s), and a
# timed restore starts at least SETTLE seconds after the last delete of anything else (a
# repository, the 1 % change) — the same file-system state for every contender, whichever runs
# first. KEEP_RESTORES=0 deletes a round's restores together after the round (and syncs).
source "$here/settle.sh"  # deleted, settle

rm -rf "$WORK"
mkdir -p "$WORK/logs"
data=$WORK/data
"$here/make_dataset.sh" "$data" $size | tee "$WORK/dataset.txt"
results=$WORK/results.tsv
: >"$results"

export RESTIC_PASSWORD=velin-bench RESTIC_CACHE_DIR=$WORK/restic-cache
export BORG_PASSPHRASE="" BORG_BASE_DIR=$WORK/borg-base
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes
export VELIN_BENCH_PASSPHRASE="bench passphrase, not a secret"

cipher_of() {
  case $1 in
    velin) echo none ;;
    velin-aes) echo aes-256-gcm ;;
    velin-chacha) echo chacha20-poly1305 ;;
  esac
}
for tool in $TOOLS; do
  [[ $tool == velin* ]] || continue
  cat >"$WORK/$tool.toml" <<EOF
[app]
root = "$WORK"

[backup]
include = ["data"]
destination = "$WORK/repo-$tool"
prune_after_create = false
encryption = "$(cipher_of "$tool")"
password_env = "VELIN_BENCH_PASSPHRASE"
EOF
done

failed=""
# timed TOOL STEP ROUND CMD...: runs CMD under GNU time and appends its figures to results.tsv.
timed() {
  local tool=$1 step=$2 round=$3
  shift 3
  local t=$WORK/logs/$tool-$step-$round.time
  if /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >"$WORK/logs/$tool-$step-$round.log" 2>&1; then
    read -r w u s m <"$t"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$step" "$round" "$w" "$u" "$s" "$m" \
      "$(du -sb "$WORK/repo-$tool" | cut -f1)" >>"$results"
    echo "  $tool $step #$round: ${w}s wall, ${u}+${s}s CPU, $((m / 1024)) MiB RSS" >&2
    return 0
  fi
  failed+=" $tool:$step"
  echo "  $tool $step FAILED:" >&2
  tail -n 5 "$WORK/logs/$tool-$step-$round.log" >&2
  return 1
}

# The contenders in round R's order: rotated by R, so none always runs first or last.
order() {
  local -a t=($TOOLS)
  local n=${#t[@]} i
  for ((i = 0; i < n; i++)); do echo "${t[$(((i + $1) % n))]}"; done
}

init() {
  local tool=$1
  if [ -e "$WORK/repo-$tool" ]; then rm -rf "$WORK/repo-$tool" && deleted; fi
  case $tool in
    velin*) : ;;  # velin initialises its repository on the first create
    restic) rm -rf "$RESTIC_CACHE_DIR" && restic -r "$WORK/repo-restic" init >"$WORK/logs/restic-init.log" 2>&1 ;;
    borg) borg init --encryption none "$WORK/repo-borg" >"$WORK/logs/borg-init.log" 2>&1 ;;
  esac
}

backup() {
  local tool=$1 step=$2 round=$3
  case $tool in
    velin*)
      local strategy=full
      [ "$step" != first ] && strategy=$VELIN_STRATEGY
      timed "$tool" "$step" "$round" "$VELIN" --config "$WORK/$tool.toml" backup create -q \
        --strategy "$strategy" ;;
    restic) timed restic "$step" "$round" restic -r "$WORK/repo-restic" backup --quiet "$data" ;;
    borg) timed borg "$step" "$round" borg create "$WORK/repo-borg::$step-$round" "$data" ;;
  esac
}

# Into a fresh directory; kept to the end, or deleted with the rest of the round's restores
# (remove_restores).
restore() {
  local tool=$1 round=$2 target=$WORK/restores/$1-$2
  mkdir -p "$target"
  settle
  drop_caches
  case $tool in
    velin*) timed "$tool" restore "$round" "$VELIN" --config "$WORK/$tool.toml" backup restore \
      latest --target "$target" --yes -q ;;
    restic) timed restic restore "$round" restic -r "$WORK/repo-restic" restore latest \
      --target "$target" ;;
    borg) timed borg restore "$round" env -C "$target" borg extract \
      "$WORK/repo-borg::changed-$ROUNDS" ;;
  esac || return 1
  # Untimed: the restored tree must equal the dataset.
  local got
  got=$(find "$target" -type d -path '*/data/small' -print -quit)
  if [ -z "$got" ] || ! diff -rq --no-dereference "$data" "$(dirname "$got")" \
      >"$WORK/logs/$tool-diff-$round.log" 2>&1; then
    failed+=" $tool:restore-differs"
    echo "  $tool: RESTORE DIFFERS from the dataset (see $WORK/logs/$tool-diff-$round.log)" >&2
    return 1
  fi
}

remove_restores() {
  [ "$KEEP_RESTORES" = 1 ] && return 0
  if [ -e "$WORK/restores" ]; then rm -rf "$WORK/restores" && deleted; fi
}

verify() {
  local tool=$1 round=$2
  drop_caches
  case $tool in
    velin*) timed "$tool" verify "$round" "$VELIN" --config "$WORK/$tool.toml" backup verify \
      latest -q ;;
    restic) timed restic verify "$round" restic -r "$WORK/repo-restic" check --read-data ;;
    borg) timed borg verify "$round" borg check --verify-data "$WORK/repo-borg" ;;
  esac
}

echo "== first and no-change backups into fresh repositories, $ROUNDS rounds" >&2
for round in $(seq "$ROUNDS"); do
  for tool in $(order "$round"); do
    init "$tool" && backup "$tool" first "$round" && backup "$tool" nochange "$round" || true
  done
done
echo "== a 1 % change (another each round), then a backup of it" >&2
for round in $(seq "$ROUNDS"); do
  "$here/mutate.sh" "$data" --seed "$round" | tee -a "$WORK/dataset.txt"
  deleted  # it deletes a few files
  for tool in $(order "$round"); do backup "$tool" changed "$round" || true; done
done
echo "== restore and verify of the newest backup, page cache dropped before each" >&2
for round in $(seq "$ROUNDS"); do
  for tool in $(order "$round"); do restore "$tool" "$round" || true; done
  remove_restores  # right after the round's restores: the verifies run in the settling time
  for tool in $(order "$round"); do verify "$tool" "$round" || true; done
done

mkdir -p "$here/results"
out=$here/results/$(date -u +%Y%m%d-%H%M).md
{
  echo "# Backup tools compared on one dataset, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  sed 's/^/    /' "$WORK/dataset.txt"
  echo
  echo "velin $("$VELIN" --version 2>/dev/null | head -1) ($(git -C "$here" describe --always \
    --dirty 2>/dev/null || echo '?')), zstd 3; $(command -v restic >/dev/null && restic version \
    | head -1); load average before the report: $(cut -d' ' -f1-3 /proc/loadavg);" \
    "page cache dropped before restore and verify: $([ "$DROP_CACHES" = 1 ] && echo yes || echo no)"
  echo
  python3 "$here/compare_report.py" "$results" $TOOLS
  [ -z "$failed" ] || echo "**FAILED:**$failed"
} | tee "$out"
echo "written to $out" >&2
[ "$keep" = 1 ] || rm -rf "$WORK"
[ -z "$failed" ]
