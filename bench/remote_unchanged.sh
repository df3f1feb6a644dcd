#!/usr/bin/env bash
# What a backup that finds nothing changed costs against a remote repository LATENCY_MS away, on
# S3 and on SFTP, for one or more velin binaries taking turns: a tree of TOP_DIRS directories of
# DIRS_PER_GROUP directories of FILES small files each is backed up into a new repository
# (timed), then backed up again unchanged (timed: it reads the first backup's tree of every
# directory), then restored with the page cache dropped (timed).
#
#   bench/remote_unchanged.sh [VELIN...]        # default: build/src/velin
#   TOP_DIRS=20 DIRS_PER_GROUP=100 FILES=10 LATENCY_MS=20 ROUNDS=3 bench/remote_unchanged.sh A B
#
# The servers run on loopback as the tests start them (s3rver; sshd with a key of its own), each
# behind bench/latency_proxy.py. Each run has its own repository and an empty VELIN_CACHE_DIR
# (kept between its three commands). Prints one line per run: binary, round, backend, first
# create s, unchanged create s, restore s, and the requests the unchanged create made to SFTP
# (`velin -v` logs each; "-" for S3).
set -euo pipefail
groups=${TOP_DIRS:-20}
per_group=${DIRS_PER_GROUP:-100}
files=${FILES:-10}
latency=${LATENCY_MS:-20}
rounds=${ROUNDS:-3}
s3port=${S3_PORT:-19755}
sshport=${SSH_PORT:-19756}
s3proxy=${S3_PROXY_PORT:-19757}
sshproxy=${SSH_PROXY_PORT:-19758}
# shellcheck source=bench/remote_common.sh
source "$(dirname "$0")/remote_common.sh"

start_remotes "$s3port" "$sshport" "$s3proxy" "$sshproxy" "$latency"
cd "$work/app"
for g in $(seq 1 "$groups"); do
  for d in $(seq 1 "$per_group"); do
    mkdir -p "files/g$g/d$d"
    for f in $(seq 1 "$files"); do
      printf 'group %s dir %s file %s\n%0200d\n' "$g" "$d" "$f" 0 > "files/g$g/d$d/f$f.txt"
    done
  done
done
echo "binary round backend first unchanged restore unchanged_requests"
run=0
for round in $(seq 1 "$rounds"); do
  n=${#binaries[@]}
  for k in $(seq 0 $((n - 1))); do
    v=${binaries[$(((k + round - 1) % n))]}  # the order rotates every round
    for backend in s3 sftp; do
      run=$((run + 1))
      mkdir -p "$work/sftp/r$run"
      repo_config "$backend" "r$run" > velin.toml
      export VELIN_CACHE_DIR="$work/cache-$run"
      first=$(seconds "$v" --config velin.toml backup create -q --strategy incremental)
      s=$(date +%s.%N)
      "$v" -v --config velin.toml backup create -q --strategy incremental 2> "$work/trace"
      e=$(date +%s.%N)
      unchanged=$(echo "$e - $s" | bc)
      requests=-
      [ "$backend" = sftp ] && requests=$(grep -c " ms)" "$work/trace" || true)
      rm -rf "$work/restored"
      drop
      restore=$(seconds "$v" --config velin.toml backup restore latest --target "$work/restored" \
        --yes)
      diff -r "$work/restored/files" files > /dev/null || echo "$v: the restore differs" >&2
      echo "$v $round $backend $first $unchanged $restore $requests"
      rm -rf "$work/restored" "$VELIN_CACHE_DIR"
    done
  done
done
