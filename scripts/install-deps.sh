#!/usr/bin/env bash
# Installs everything velin needs to build and test, from Debian 12 packages. Idempotent: a
# second run installs nothing new. Package lists live in scripts/deps/*.apt (one package a
# line, '#' comments); extra set-up steps (e.g. npm test servers) in scripts/deps/*.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive

packages=$(cat "$here"/deps/*.apt | sed 's/#.*//' | tr -s ' \n' '\n' | sed '/^$/d' | sort -u)
missing=()
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for step in "$here"/deps/*.sh; do
  [ -e "$step" ] || continue
  bash "$step"
done
echo "dependencies ready"
