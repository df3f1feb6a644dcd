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
# binary, round, backend, create s, restore s, and the restore's peak RSS (KiB).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
large=${LARGE_MIB:-200}
latency=${LATENCY_MS:-20}
rounds=${ROUNDS:-3}
s3port=${S3_PORT:-19655}
sshport=${SSH_PORT:-19656}
s3proxy=${S3_PROXY_PORT:-19657}
sshproxy=${SSH_PROXY_PORT:-19658}
s3rver=${S3RVER:-/opt/velin-test/s3rver/node_modules/.bin/s3rver}
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=("$top/build/src/velin")

work=$(mktemp -d /tmp/velin-remote-large.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/s3" "$work/ssh" "$work/sftp" "$work/app/files" /run/sshd
NODE_OPTIONS=--openssl-legacy-provider "$s3rver" -d "$work/s3" -a 127.0.0.1 -p "$s3port" \
  --configure-bucket bkt --silent > "$work/s3rver.log" 2>&1 &
pids+=($!)
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/userkey"
cp "$work/ssh/userkey.pub" "$work/ssh/authorized_keys"
cat > "$work/ssh/sshd_config" <<EOF
Port $sshport
ListenAddress 127.0.0.1
HostKey $work/ssh/hostkey
AuthorizedKeysFile $work/ssh/authorized_keys
PasswordAuthentication no
StrictModes no
PidFile $work/ssh/sshd.pid
Subsystem sftp internal-sftp
EOF
/usr/sbin/sshd -f "$work/ssh/sshd_config" -D -e 2> "$work/ssh/sshd.log" &
pids+=($!)
echo "[127.0.0.1]:$sshproxy $(cut -d' ' -f1,2 "$work/ssh/hostkey.pub")" > "$work/ssh/known_hosts"
python3 "$top/bench/latency_proxy.py" "$s3proxy" "$s3port" "$latency" > "$work/proxy-s3.log" 2>&1 &
pids+=($!)
python3 "$top/bench/latency_proxy.py" "$sshproxy" "$sshport" "$latency" \
  > "$work/proxy-ssh.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  grep -q ready "$work/proxy-s3.log" 2>/dev/null && grep -q ready "$work/proxy-ssh.log" 2>/dev/null &&
    curl -s -o /dev/null "http://127.0.0.1:$s3port/" && break
  sleep 0.2
done

export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
cd "$work/app"
head -c "${large}M" /dev/urandom > files/large.bin
config() {  # config BACKEND REPO-NAME: a velin.toml for that repository
  local destination
  case $1 in
    s3) destination="s3://bkt/$2" ;;
    sftp) destination="sftp://root@127.0.0.1:$sshproxy$work/sftp/$2" ;;
  esac
  cat <<EOF
[app]
root = "."

[backup]
include = ["files"]
destination = "$destination"
retention_days = 3650

[storage.s3]
endpoint = "http://127.0.0.1:$s3proxy"
path_style = true

[storage.sftp]
key_file = "$work/ssh/userkey"
known_hosts = "$work/ssh/known_hosts"
EOF
}
seconds() {  # runs "$@" and prints its wall time in seconds
  local s e
  s=$(date +%s.%N)
  "$@" > /dev/null
  e=$(date +%s.%N)
  echo "$e - $s" | bc
}
drop() {
  if [ "${DROP_CACHES:-1}" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
    sync
    echo 3 > /proc/sys/vm/drop_caches
  fi
}

echo "binary round backend create restore restore_rss_kib"
run=0
for round in $(seq 1 "$rounds"); do
  n=${#binaries[@]}
  for k in $(seq 0 $((n - 1))); do
    v=${binaries[$(((k + round - 1) % n))]}  # the order rotates every round
    for backend in s3 sftp; do
      run=$((run + 1))
      mkdir -p "$work/sftp/r$run"
      config "$backend" "r$run" > velin.toml
      export VELIN_CACHE_DIR="$work/cache-$run"
      create=$(seconds "$v" --config velin.toml backup create -q)
      rm -rf "$work/restored"
      drop
      s=$(date +%s.%N)
      /usr/bin/time -f %M -o "$work/rss" "$v" --config velin.toml backup restore latest \
        --target "$work/restored" --yes > /dev/null
      e=$(date +%s.%N)
      cmp -s "$work/restored/files/large.bin" files/large.bin || echo "$v: the restore differs" >&2
      echo "$v $round $backend $create $(echo "$e - $s" | bc) $(cat "$work/rss")"
      rm -rf "$work/restored" "$VELIN_CACHE_DIR"
    done
  done
done
