#!/usr/bin/env bash
# What one large file costs against a remote repository LATENCY_MS away, on S3 and on SFTP, for
# one or more velin binaries taking turns: `backup create` of a LARGE_MIB file of random bytes
# into a new repository, then `backup restore latest` of it (page cache dropped first).
#
#   bench/remote_large.sh [VELIN...]        # default: build/src/velin
#   LARGE_MIB=200 LATENCY_MS=20 ROUNDS=3 bench/remote_large.sh /tmp/velin-old /tmp/velin-new
#
# The servers run on loopback as the tests start them (s3rver; sshd with a key of its own),
# each behind bench/latency_proxy.py, which delays every reply by LATENCY_MS. The page cache is
# dropped before each restore (root only; DROP_CACHES=0 to skip). Prints one line per run:
# binary, round, backend, create s, restore s, and the restore's and the create's peak RSS (KiB).
set -euo pipefail
large=${LARGE_MIB:-200}
latency=${LATENCY_MS:-20}
rounds=${ROUNDS:-3}
s3port=${S3_PORT:-19655}
sshport=${SSH_PORT:-19656}
s3proxy=${S3_PROXY_PORT:-19657}
sshproxy=${SSH_PROXY_PORT:-19658}
# shellcheck source=bench/remote_common.sh
source "$(dirname "$0")/remote_common.sh"

start_remotes "$s3port" "$sshport" "$s3proxy" "$sshproxy" "$latency"
cd "$work/app"
head -c "${large}M" /dev/urandom > files/large.bin
echo "binary round backend create restore restore_rss_kib create_rss_kib"
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
      create=$(seconds /usr/bin/time -f %M -o "$work/create-rss" \
        "$v" --config velin.toml backup create -q)
      rm -rf "$work/restored"
      drop
      s=$(date +%s.%N)
      /usr/bin/time -f %M -o "$work/rss" "$v" --config velin.toml backup restore latest \
        --target "$work/restored" --yes > /dev/null
      e=$(date +%s.%N)
      cmp -s "$work/restored/files/large.bin" files/large.bin || echo "$v: the restore differs" >&2
      echo "$v $round $backend $create $(echo "$e - $s" | bc) $(cat "$work/rss")" \
        "$(cat "$work/create-rss")"
      rm -rf "$work/restored" "$VELIN_CACHE_DIR"
    done
  done
done
