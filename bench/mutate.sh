#!/usr/bin/env bash
# Applies a deterministic ~1 % change to a dataset made by make_dataset.sh: edits and appends
# to 1 % of the text files, deleted and new files, blocks rewritten in 2 % of the mid files and
# in a large file, and a new file making up the rest of the 1 %.
#   bench/mutate.sh DIR [--seed N]
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [--seed N]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
python3 "$here/dataset.py" mutate "$@"
