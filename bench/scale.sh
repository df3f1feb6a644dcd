#!/usr/bin/env bash
# How velin's costs grow with scale, side by side with restic (issue 19 §4):
#   1. many small files (1-8 KiB, 1,000 per directory) at each of FILES: first backup,
#      no-change backup, restore (page cache dropped first), with the lstat floor (`du -s`, one
#      lstat per file) next to the no-change run;
#   2. one repository growing to each of SNAPSHOTS backups (a tiny change between backups):
#      list, status, forget of the oldest backup + prune, verify of one backup;
#   3. the in-memory index's bytes per blob at each of BLOBS synthetic blobs
#      (build/bench/velin_index_memory, built with -DVELIN_BENCH=ON).
# Every measure: wall, user, sys (GNU time), peak RSS, and the 1-minute load average before it.
#
#   bench/scale.sh [--quick]        # FILES="100000 300000 1000000" SNAPSHOTS="10 100 1000"
#                                   # BLOBS="1000000 4000000 16000000"; --quick: 20k files,
#                                   # 10/50 snapshots, 1M blobs
# Environment: VELIN (build/src/velin), INDEX_TOOL (build/bench/velin_index_memory), WORK
# (bench/work-scale; needs ~6 GB per million files for the data, as much again for each restore:
# a part's restores are kept until it ends), ROUNDS (3) and ROUNDS_MAX_FILES (300000: larger
# sizes run once), PARTS ("files snapshots index"), TOOLS
# ("velin restic": one alone measures files and snapshots for it only),
# DROP_CACHES (1: drop the page cache before each restore and verify; needs root), SETTLE (65:
# seconds between deleting a tree and the next timed backup or restore, see settle()).
# Raw figures go to $WORK/scale.tsv (appended: a run interrupted can be resumed part by part);
# bench/scale_plot.sh draws them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
VELIN=${VELIN:-$top/build/src/velin}
INDEX_TOOL=${INDEX_TOOL:-$top/build/bench/velin_index_memory}
WORK=${WORK:-$here/work-scale}
PARTS=${PARTS:-files snapshots index}
TOOLS=${TOOLS:-velin restic}
DROP_CACHES=${DROP_CACHES:-1}
SETTLE=${SETTLE:-65}
ROUNDS=${ROUNDS:-3}
ROUNDS_MAX_FILES=${ROUNDS_MAX_FILES:-300000}
if [ "${1:-}" = --quick ]; then
  FILES=${FILES:-20000} SNAPSHOTS=${SNAPSHOTS:-"10 50"} BLOBS=${BLOBS:-1000000}
fi
FILES=${FILES:-100000 300000 1000000}
SNAPSHOTS=${SNAPSHOTS:-10 100 1000}
BLOBS=${BLOBS:-1000000 4000000 16000000}

for tool in restic python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "scale.sh: needs $tool (apt-get install restic python3 time)" >&2; exit 2; }
done
[ -x "$VELIN" ] || { echo "scale.sh: no velin binary at $VELIN" >&2; exit 2; }

mkdir -p "$WORK/logs"
results=$WORK/scale.tsv
[ -f "$results" ] || printf 'part\tsize\ttool\tstep\twall_s\tuser_s\tsys_s\trss_kib\tload1\n' >"$results"
export RESTIC_PASSWORD=velin-bench RESTIC_CACHE_DIR=$WORK/restic-cache

drop_caches() {
  if [ "$DROP_CACHES" = 1 ]; then sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; fi
}

# ext4 without a journal (this kind of VM) skips inodes freed in the last 60 s (300 s while
# their inode table block is dirty) when it allocates one, reading the block for each: whoever
# creates files right after `rm -rf` of a large tree pays several times the system time for it
# (bench/README.md). So every delete is synced and marked (deleted), and each contender's first
# backup and restore start at least SETTLE seconds after the last delete (settle): the same
# file-system state for velin and restic.
source "$here/settle.sh"  # deleted, settle

# timed PART SIZE TOOL STEP CMD...: one measure, appended to $results.
timed() {
  local part=$1 size=$2 tool=$3 step=$4
  shift 4
  local load t=$WORK/logs/$part-$size-$tool-$step.time
  load=$(cut -d' ' -f1 /proc/loadavg)
  if ! /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >"$WORK/logs/$part-$size-$tool-$step.log" 2>&1; then
    echo "scale.sh: $tool $step ($part $size) failed:" >&2
    tail -n 5 "$WORK/logs/$part-$size-$tool-$step.log" >&2
    return 1
  fi
  read -r w u s m <"$t"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$size" "$tool" "$step" "$w" "$u" "$s" "$m" "$load" >>"$results"
  printf '  %-9s %8s %-6s %-10s %7ss wall %7ss user %6ss sys %8s KiB  (load %s)\n' "$part" "$size" "$tool" "$step" "$w" "$u" "$s" "$m" "$load" >&2
}

# make_files DIR N: N files of 1-8 KiB (uniform), 1,000 per directory, half random bytes and
# half text-like, deterministic.
make_files() {
  python3 - "$1" "$2" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(19)
words = [b"alpha", b"beta", b"gamma", b"delta", b"log", b"GET", b"/index.php", b"200", b"user", b"session"]
text = b" ".join(rnd.choice(words) for _ in range(40000))
blob = rnd.randbytes(1 << 20)
for i in range(n):
    d = os.path.join(root, "d%04d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    size = rnd.randint(1024, 8192)
    off = rnd.randint(0, (1 << 18))
    half = size // 2
    data = blob[off:off + half] + text[off % 100000:off % 100000 + size - half]
    with open(os.path.join(d, "f%07d" % i), "wb") as f:
        f.write(data)
    os.utime(os.path.join(d, "f%07d" % i), (1700000000 + i, 1700000000 + i))
EOF
}

velin_config() {  # velin_config FILE ROOT REPO [extra lines]
  cat >"$1" <<EOF
[app]
root = "$2"

[backup]
include = ["data"]
destination = "$3"
prune_after_create = false
${4:-}
EOF
}

# files_round N ROUND TOOL: one contender's first backup (fresh repository), no-change backup
# with the lstat floor after it, and restore into a fresh directory (kept, see part_files).
files_round() {
  local n=$1 r=$2 tool=$3 dir=$WORK/files-$1
  local repo=$dir/repo-$tool-$r out=$dir/restore-$tool-$r
  case $tool in
    velin)
      velin_config "$dir/velin-$r.toml" "$dir" "$repo"
      local v=("$VELIN" --config "$dir/velin-$r.toml")
      settle
      timed files "$n" velin first "${v[@]}" backup create --strategy full
      timed files "$n" velin nochange "${v[@]}" backup create --strategy incremental
      timed files "$n" floor lstat du -s "$dir/data"
      settle
      drop_caches
      timed files "$n" velin restore "${v[@]}" backup restore latest --target "$out" --yes
      diff -r "$dir/data" "$out/data" >/dev/null || { echo "scale.sh: velin's restore differs" >&2; return 1; }
      ;;
    restic)
      restic -r "$repo" init >"$WORK/logs/files-$n-restic-init-$r.log" 2>&1
      settle
      timed files "$n" restic first restic -r "$repo" backup "$dir/data"
      timed files "$n" restic nochange restic -r "$repo" backup "$dir/data"
      timed files "$n" floor lstat du -s "$dir/data"
      settle
      drop_caches
      timed files "$n" restic restore restic -r "$repo" restore latest --target "$out"
      diff -r "$dir/data" "$out/$dir/data" >/dev/null || { echo "scale.sh: restic's restore differs" >&2; return 1; }
      ;;
  esac
  # A repository is a few hundred packs: deleting it frees few inodes (no settle needed).
  rm -rf "$repo" "$RESTIC_CACHE_DIR"
}

# ROUNDS rounds at each size up to ROUNDS_MAX_FILES files, one above (default 3 and 300,000:
# 1,000,000 files take restic ~8 minutes a round here); the contenders take turns, the order
# swapped every round. Restores stay until the part ends: 65 s after deleting 60,000 files was
# not enough for ext4 to stop skipping their inodes (2026-11-30), so every timed restore and
# first backup of the part creates its files in a file system that deleted nothing large since
# the part began (it needs ~6 GB per million files per restore kept).
part_files() {
  local n=$1 dir=$WORK/files-$1 rounds=$ROUNDS r tool order
  [ "$n" -le "$ROUNDS_MAX_FILES" ] || rounds=1
  if [ -e "$dir" ]; then rm -rf "$dir" && deleted; fi
  mkdir -p "$dir"
  echo "files: $n, $rounds round(s)" >&2
  make_files "$dir/data" "$n"
  sync
  timed files "$n" floor lstat du -s "$dir/data"
  for r in $(seq "$rounds"); do
    order=$TOOLS
    [ $((r % 2)) = 1 ] || order=$(echo "$TOOLS" | tr ' ' '\n' | tac | tr '\n' ' ')
    for tool in $order; do files_round "$n" "$r" "$tool"; done
  done
}

# Deletes every size's tree once the whole part has run.
part_files_cleanup() {
  local n
  for n in $FILES; do rm -rf "$WORK/files-$n"; done
  deleted
}

part_snapshots() {
  local dir=$WORK/snapshots
  rm -rf "$dir"
  mkdir -p "$dir"
  make_files "$dir/data" 500
  velin_config "$dir/velin.toml" "$dir" "$dir/repo-velin"
  [[ " $TOOLS " == *" restic "* ]] && restic -r "$dir/repo-restic" init >"$WORK/logs/snapshots-restic-init.log" 2>&1
  local have=0 target
  for target in $SNAPSHOTS; do
    echo "snapshots: $have -> $target" >&2
    while [ "$have" -lt $((target - 1)) ]; do
      have=$((have + 1))
      echo "change $have" >"$dir/data/d0000/changing.txt"
      if [[ " $TOOLS " == *" velin "* ]]; then
        "$VELIN" --config "$dir/velin.toml" backup create --strategy incremental >/dev/null 2>"$WORK/logs/snapshots-velin-create.log"
      fi
      if [[ " $TOOLS " == *" restic "* ]]; then
        restic -r "$dir/repo-restic" backup "$dir/data" >/dev/null 2>"$WORK/logs/snapshots-restic-create.log"
      fi
    done
    local v=("$VELIN" --config "$dir/velin.toml")
    echo "change $target" >"$dir/data/d0000/changing.txt"
    if [[ " $TOOLS " == *" velin "* ]]; then
      timed snapshots "$target" velin create "${v[@]}" backup create --strategy incremental
      timed snapshots "$target" velin list "${v[@]}" backup list
      timed snapshots "$target" velin status "${v[@]}" backup status
      # Forget the oldest backup (keep all others), then prune.
      velin_config "$dir/velin-forget.toml" "$dir" "$dir/repo-velin" "keep_last = $((target - 1))"
      timed snapshots "$target" velin forget "$VELIN" --config "$dir/velin-forget.toml" backup forget
      timed snapshots "$target" velin prune "${v[@]}" backup prune
      drop_caches
      timed snapshots "$target" velin verify "${v[@]}" backup verify latest
    fi
    if [[ " $TOOLS " == *" restic "* ]]; then
      timed snapshots "$target" restic create restic -r "$dir/repo-restic" backup "$dir/data"
      timed snapshots "$target" restic list restic -r "$dir/repo-restic" snapshots
      timed snapshots "$target" restic status restic -r "$dir/repo-restic" stats latest
      local oldest
      oldest=$(restic -r "$dir/repo-restic" snapshots --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["short_id"])')
      timed snapshots "$target" restic forget restic -r "$dir/repo-restic" forget "$oldest"
      timed snapshots "$target" restic prune restic -r "$dir/repo-restic" prune
      drop_caches
      timed snapshots "$target" restic verify restic -r "$dir/repo-restic" check --read-data
    fi
    have=$((target - 1))
  done
  rm -rf "$dir"
}

part_index() {
  [ -x "$INDEX_TOOL" ] || { echo "scale.sh: no $INDEX_TOOL (configure with -DVELIN_BENCH=ON)" >&2; return 1; }
  local n
  for n in $BLOBS; do
    rm -rf "$WORK/index-$n"
    "$INDEX_TOOL" write "$WORK/index-$n" "$n" >/dev/null
    local load out
    load=$(cut -d' ' -f1 /proc/loadavg)
    out=$("$INDEX_TOOL" load "$WORK/index-$n")
    echo "  index $n: $out (load $load)" >&2
    # blobs N packs P entry E B | resident after load R B/blob | peak while loading H B/blob | ...
    local resident peak
    resident=$(sed -n 's/.*resident after load \([0-9.]*\) B\/blob.*/\1/p' <<<"$out")
    peak=$(sed -n 's/.*peak while loading \([0-9.]*\) B\/blob.*/\1/p' <<<"$out")
    printf 'index\t%s\tvelin\tresident_B_per_blob\t%s\t\t\t\t%s\n' "$n" "$resident" "$load" >>"$results"
    printf 'index\t%s\tvelin\tpeak_B_per_blob\t%s\t\t\t\t%s\n' "$n" "$peak" "$load" >>"$results"
    rm -rf "$WORK/index-$n"
  done
}

for part in $PARTS; do
  case $part in
    files) for n in $FILES; do part_files "$n"; done; part_files_cleanup ;;
    snapshots) part_snapshots ;;
    index) part_index ;;
    *) echo "scale.sh: unknown part $part" >&2; exit 2 ;;
  esac
done
echo "raw figures: $results" >&2
