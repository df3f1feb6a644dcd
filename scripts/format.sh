#!/usr/bin/env bash
# Formats every C++ file of the repository in place with the checked-in .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp' '*.h' | xargs -r clang-format -i
