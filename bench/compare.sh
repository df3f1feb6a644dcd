#!/usr/bin/env bash
# Times velin, restic and borg in ONE run on the same deterministic dataset: first backup,
# no-change backup, backup after a 1 % change, restore, verify. For each step: wall time,
# CPU (user+sys), peak RSS (GNU time), repository size; then velin's ratio to each peer.
# Prints a Markdown report and writes it to bench/results/<date>.md. See bench/README.md.
#
#   bench/compare.sh [--small] [--keep]
#     --small   ~200 MB dataset instead of ~2 GiB (for quick runs while developing)
#     --keep    keep the work directory (dataset, repositories, restores) afterwards
#   VELIN=path          velin binary (default build/src/velin)
#   TOOLS="velin restic borg"   which tools to run (default all three)
#   WORK=dir            work directory (default bench/work; needs ~5x the dataset size)
#   VELIN_STRATEGY=incremental  strategy of velin's 2nd and 3rd backup (restic and borg
#                       also skip unchanged files by their metadata cache); "full" re-reads
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
small=""
keep=0
for arg in "$@"; do
  case $arg in
    --small) small="--small" ;;
    --keep) keep=1 ;;
    *) echo "usage: $0 [--small] [--keep]" >&2; exit 2 ;;
  esac
done
VELIN=${VELIN:-$top/build/src/velin}
TOOLS=${TOOLS:-velin restic borg}
WORK=${WORK:-$here/work}
VELIN_STRATEGY=${VELIN_STRATEGY:-incremental}
STEPS="first nochange changed restore verify"

# --- prerequisites: the peers and GNU time come from Debian; no network use beyond apt ---
need=()
for pair in restic:restic borg:borgbackup /usr/bin/time:time python3:python3; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ " $TOOLS " == *" velin "* ]] && [ ! -x "$VELIN" ]; then
  echo "no velin binary at $VELIN (build it, or set VELIN=path)" >&2
  exit 2
fi

rm -rf "$WORK"
mkdir -p "$WORK/logs"
data=$WORK/data
"$here/make_dataset.sh" "$data" $small | tee "$WORK/dataset.txt"

declare -A wall cpu rss repo status
export RESTIC_PASSWORD=velin-bench RESTIC_CACHE_DIR=$WORK/restic-cache
export BORG_PASSPHRASE="" BORG_BASE_DIR=$WORK/borg-base
export BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes BORG_RELOCATED_REPO_ACCESS_IS_OK=yes

cat >"$WORK/velin.toml" <<EOF
[app]
root = "$WORK"

[backup]
include = ["data"]
destination = "$WORK/repo-velin"
prune_after_create = false
EOF

# timed TOOL STEP CMD...: runs CMD under GNU time, records wall/CPU/RSS, logs its output.
timed() {
  local tool=$1 step=$2
  shift 2
  local t=$WORK/logs/$tool-$step.time
  if /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >"$WORK/logs/$tool-$step.log" 2>&1; then
    read -r w u s m <"$t"
    wall[$tool:$step]=$w
    cpu[$tool:$step]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
    rss[$tool:$step]=$(( m / 1024 ))
    repo[$tool:$step]=$(du -sb "$WORK/repo-$tool" | cut -f1)
    echo "  $tool $step: ${w}s wall, ${cpu[$tool:$step]}s CPU, ${rss[$tool:$step]} MiB RSS" >&2
    return 0
  fi
  status[$tool]="failed at $step (see $WORK/logs/$tool-$step.log)"
  echo "  $tool $step FAILED:" >&2
  tail -n 5 "$WORK/logs/$tool-$step.log" >&2
  return 1
}

velin_cmd() { "$VELIN" --config "$WORK/velin.toml" "$@"; }

init() {
  case $1 in
    velin) : ;;  # velin initialises its repository on the first create
    restic) restic -r "$WORK/repo-restic" init >"$WORK/logs/restic-init.log" 2>&1 ;;
    borg) borg init --encryption none "$WORK/repo-borg" >"$WORK/logs/borg-init.log" 2>&1 ;;
  esac
}

# backup TOOL STEP
backup() {
  local tool=$1 step=$2
  case $tool in
    velin)
      local strategy=full
      [ "$step" != first ] && strategy=$VELIN_STRATEGY
      timed velin "$step" "$VELIN" --config "$WORK/velin.toml" backup create --json \
        --strategy "$strategy" ;;
    restic) timed restic "$step" restic -r "$WORK/repo-restic" backup --quiet "$data" ;;
    borg) timed borg "$step" borg create "$WORK/repo-borg::$step" "$data" ;;
  esac
}

restore() {
  local tool=$1 target=$WORK/restore-$1
  rm -rf "$target" && mkdir -p "$target"
  case $tool in
    velin) timed velin restore "$VELIN" --config "$WORK/velin.toml" backup restore latest \
      --target "$target" --yes ;;
    restic) timed restic restore restic -r "$WORK/repo-restic" restore latest --target "$target" ;;
    borg) timed borg restore env -C "$target" borg extract "$WORK/repo-borg::changed" ;;
  esac || return 1
  # Untimed: the restored tree must equal the dataset.
  local got
  got=$(find "$target" -type d -path '*/data/small' -print -quit)
  if [ -z "$got" ] || ! diff -rq --no-dereference "$data" "$(dirname "$got")" \
      >"$WORK/logs/$tool-diff.log" 2>&1; then
    status[$tool]="RESTORE DIFFERS from the dataset (see $WORK/logs/$tool-diff.log)"
    return 1
  fi
  rm -rf "$target"
}

verify() {
  case $1 in
    velin) timed velin verify "$VELIN" --config "$WORK/velin.toml" backup verify latest ;;
    restic) timed restic verify restic -r "$WORK/repo-restic" check --read-data ;;
    borg) timed borg verify borg check --verify-data "$WORK/repo-borg" ;;
  esac
}

echo "== first and no-change backups" >&2
for tool in $TOOLS; do
  status[$tool]=ok
  init "$tool" && backup "$tool" first && backup "$tool" nochange || true
done
echo "== 1 % change" >&2
"$here/mutate.sh" "$data" | tee -a "$WORK/dataset.txt"
echo "== backup after the change, restore, verify" >&2
for tool in $TOOLS; do
  [ "${status[$tool]}" = ok ] || continue
  backup "$tool" changed && restore "$tool" && verify "$tool" || true
done

source "$here/report.sh"
mkdir -p "$here/results"
out=$here/results/$(date -u +%Y%m%d-%H%M).md
report | tee "$out"
echo "written to $out" >&2
[ "$keep" = 1 ] || rm -rf "$WORK"
for tool in $TOOLS; do [ "${status[$tool]}" = ok ] || exit 1; done
