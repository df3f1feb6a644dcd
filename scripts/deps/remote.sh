#!/usr/bin/env bash
# Test servers for the offsite storage backends, installed once into a fixed cache directory
# (VELIN_TEST_NODE_DIR, default /opt/velin-test) that tests/support/remote_servers.cpp uses:
#   s3rver               S3-compatible server (checks the access key, not the signature)
#   @20minutes/s3rver    its fork that checks AWS Signature V4 (needs Node.js >= 20)
# and the local user the FTP tests log in as. Idempotent: a second run changes nothing.
set -euo pipefail
dir=${VELIN_TEST_NODE_DIR:-/opt/velin-test}

if ! command -v npm >/dev/null 2>&1; then
  apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
install_pkg() {  # install_pkg SUBDIR PACKAGE@VERSION MODULE_PATH
  if [ ! -f "$dir/$1/node_modules/$3/package.json" ]; then
    mkdir -p "$dir/$1"
    npm install --silent --no-audit --no-fund --prefix "$dir/$1" "$2" >/dev/null
  fi
}
install_pkg s3rver s3rver@3 s3rver
install_pkg s3rver-sig @20minutes/s3rver@4 @20minutes/s3rver
# s3rver 3 answers a PUT before the object is written and writes over the old one in place:
# patched to write, rename, then answer, as S3 does (patch-s3rver.js says why).
node "$(dirname "$0")/patch-s3rver.js" "$dir/s3rver/node_modules/s3rver/lib/stores/filesystem.js"

# vsftpd authenticates through PAM: the FTP tests need a real local user.
if [ "$(id -u)" -eq 0 ] && ! getent passwd velin-ftp >/dev/null; then
  useradd --system --no-create-home --home-dir / --shell /bin/sh velin-ftp
  echo 'velin-ftp:velin-ftp-test' | chpasswd
fi
mkdir -p /run/sshd 2>/dev/null || true
