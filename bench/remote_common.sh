# shellcheck shell=bash
# Shared by bench/remote_start.sh, remote_large.sh and remote_unchanged.sh (sourced, not run): a
# work directory and the servers started in it, all removed on exit; s3rver, sshd and
# bench/latency_proxy.py on loopback; timing and page-cache helpers. Sets `top`, `work`, `binaries` (the arguments, or
# build/src/velin) and `s3rver`; the caller has `set -euo pipefail`.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
s3rver=${S3RVER:-/opt/velin-test/s3rver/node_modules/.bin/s3rver}
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=("$top/build/src/velin")

work=$(mktemp -d "/tmp/velin-$(basename "$0" .sh).XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

start_s3rver() {  # start_s3rver PORT: a bucket "bkt", data under $work/s3
  mkdir -p "$work/s3"
  # s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
  NODE_OPTIONS=--openssl-legacy-provider "$s3rver" -d "$work/s3" -a 127.0.0.1 -p "$1" \
    --configure-bucket bkt --silent > "$work/s3rver.log" 2>&1 &
  pids+=($!)
}

start_sshd() {  # start_sshd PORT PROXY_PORT: keys in $work/ssh, known_hosts for the proxy's port
  mkdir -p "$work/ssh" /run/sshd
  ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/hostkey"
  ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/userkey"
  cp "$work/ssh/userkey.pub" "$work/ssh/authorized_keys"
  cat > "$work/ssh/sshd_config" <<EOF
Port $1
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
  echo "[127.0.0.1]:$2 $(cut -d' ' -f1,2 "$work/ssh/hostkey.pub")" > "$work/ssh/known_hosts"
}

start_proxy() {  # start_proxy PORT UPSTREAM_PORT DELAY_MS: waits until it listens
  python3 "$top/bench/latency_proxy.py" "$1" "$2" "$3" > "$work/proxy-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    grep -q ready "$work/proxy-$1.log" 2>/dev/null && return
    sleep 0.2
  done
  echo "the latency proxy on port $1 did not start" >&2
  return 1
}

wait_s3rver() {  # wait_s3rver PORT
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return
    sleep 0.2
  done
  echo "s3rver on port $1 did not start" >&2
  return 1
}

start_remotes() {  # start_remotes S3_PORT SSH_PORT S3_PROXY_PORT SSH_PROXY_PORT LATENCY_MS:
  # s3rver and sshd, each behind a proxy adding the latency; $work/sftp and $work/app/files
  # made, the S3 keys exported; repo_config then names the proxies
  mkdir -p "$work/sftp" "$work/app/files"
  start_s3rver "$1"
  start_sshd "$2" "$4"
  start_proxy "$3" "$1" "$5"
  start_proxy "$4" "$2" "$5"
  wait_s3rver "$1"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  remote_s3proxy=$3
  remote_sshproxy=$4
}

repo_config() {  # repo_config s3|sftp REPO-NAME: a velin.toml backing up ./files there, through
  # the proxies start_remotes started
  local destination
  case $1 in
    s3) destination="s3://bkt/$2" ;;
    sftp) destination="sftp://root@127.0.0.1:$remote_sshproxy$work/sftp/$2" ;;
  esac
  cat <<EOF
[app]
root = "."

[backup]
include = ["files"]
destination = "$destination"
retention_days = 3650

[storage.s3]
endpoint = "http://127.0.0.1:$remote_s3proxy"
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

drop() {  # drops the page cache (root only; DROP_CACHES=0 to skip)
  if [ "${DROP_CACHES:-1}" = 1 ] && [ -w /proc/sys/vm/drop_caches ]; then
    sync
    echo 3 > /proc/sys/vm/drop_caches
  fi
}
