#!/usr/bin/env bash
# Makes the deterministic benchmark dataset in DIR: ~2 GiB, or ~200 MB with --small.
#   bench/make_dataset.sh DIR [--small]
# What it holds is described in bench/dataset.py and bench/README.md.
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [--small]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
shift
start=$(date +%s)
python3 "$here/dataset.py" generate "$dir" "$@"
echo "dataset $dir: $(du -sh --apparent-size "$dir" | cut -f1), $(find "$dir" -type f | wc -l) files, made in $(( $(date +%s) - start )) s"
