#!/usr/bin/env bash
# What round trips cost against a remote repository on S3 LATENCY_MS away, for one or more velin
# binaries taking turns:
# - a command's start on a new machine (no cache yet): `backup list` and `backup restore latest`
#   of a repository of BACKUPS small backups (each with its own index object);
# - walking a backup of DIRS directories (a tree each): `backup create` (full), `backup verify
#   latest`, `backup restore latest` (cache kept, page cache dropped before verify and restore).
#
#   bench/remote_start.sh [VELIN...]        # default: build/src/velin
#   BACKUPS=300 DIRS=420 LATENCY_MS=20 ROUNDS=3 bench/remote_start.sh /tmp/velin-old /tmp/velin-new
#
# The S3 server is s3rver on loopback (as the tests start it) behind bench/latency_proxy.py,
# which delays every reply by LATENCY_MS. Every run starts with an empty VELIN_CACHE_DIR; the
# page cache is dropped before each restore (root only; DROP_CACHES=0 to skip). Prints one line
# per run: binary, round, cold list, warm list (the second run, cache filled), cold restore (s).
set -euo pipefail
backups=${BACKUPS:-300}
dirs=${DIRS:-420}
latency=${LATENCY_MS:-20}
rounds=${ROUNDS:-4}
s3port=${S3_PORT:-19555}
proxyport=${PROXY_PORT:-19600}
# shellcheck source=bench/remote_common.sh
source "$(dirname "$0")/remote_common.sh"

mkdir -p "$work/app/files"
start_s3rver "$s3port"
start_proxy "$proxyport" "$s3port" "$latency"
wait_s3rver "$s3port"

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
cd "$work/app"
for port in "$s3port" "$proxyport"; do
  cat > "velin-$port.toml" <<EOF
[app]
root = "."

[backup]
include = ["files"]
destination = "s3://bkt/many"
retention_days = 3650

[storage.s3]
endpoint = "http://127.0.0.1:$port"
path_style = true
EOF
done

echo "making $backups backups on s3://bkt/many (no added latency)" >&2
for i in $(seq 1 50); do head -c 3000 /dev/urandom > "files/f$i"; done
for i in $(seq 1 "$backups"); do
  head -c 2000 /dev/urandom > "files/f$((i % 50 + 1))"  # a new blob: a new index object
  VELIN_CACHE_DIR="$work/cache-make" "${binaries[0]}" --config "velin-$s3port.toml" \
    backup create -q > /dev/null
done

echo "binary round list_cold list_warm restore_cold"
for round in $(seq 1 "$rounds"); do
  n=${#binaries[@]}
  for k in $(seq 0 $((n - 1))); do
    v=${binaries[$(((k + round - 1) % n))]}  # the order rotates every round
    export VELIN_CACHE_DIR="$work/cache"
    rm -rf "$VELIN_CACHE_DIR"
    cold=$(seconds "$v" --config "velin-$proxyport.toml" backup list)
    warm=$(seconds "$v" --config "velin-$proxyport.toml" backup list)
    rm -rf "$VELIN_CACHE_DIR" "$work/restored"
    drop
    restore=$(seconds "$v" --config "velin-$proxyport.toml" backup restore latest \
      --target "$work/restored" --yes)
    echo "$v $round $cold $warm $restore"
  done
done

echo "making a backup of $dirs directories on s3://bkt/dirs (no added latency)" >&2
mkdir -p "$work/dirs/files"
cd "$work/dirs"
for d in $(seq 1 "$dirs"); do
  mkdir -p "files/d$((d / 20))/e$d"
  for f in 1 2 3; do head -c 1500 /dev/urandom > "files/d$((d / 20))/e$d/f$f"; done
done
for port in "$s3port" "$proxyport"; do
  sed 's|s3://bkt/many|s3://bkt/dirs|' "$work/app/velin-$port.toml" > "velin-$port.toml"
done
export VELIN_CACHE_DIR="$work/cache-dirs"
"${binaries[0]}" --config "velin-$s3port.toml" backup create -q > /dev/null
echo "binary round create_full verify restore"
for round in $(seq 1 "$rounds"); do
  n=${#binaries[@]}
  for k in $(seq 0 $((n - 1))); do
    v=${binaries[$(((k + round - 1) % n))]}
    create=$(seconds "$v" --config "velin-$proxyport.toml" backup create -q --strategy full)
    drop
    verify=$(seconds "$v" --config "velin-$proxyport.toml" backup verify latest)
    rm -rf "$work/restored"
    drop
    restore=$(seconds "$v" --config "velin-$proxyport.toml" backup restore latest \
      --target "$work/restored" --yes)
    diff -r "$work/restored/files" files > /dev/null || echo "$v: the restore differs" >&2
    echo "$v $round $create $verify $restore"
  done
done
