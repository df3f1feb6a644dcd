#!/usr/bin/env bash
# velin's main job on the embedded demo app (examples/demo: a SQLite database and an uploads
# folder): installs dependencies, builds, copies the demo to a temp dir, creates its database,
# and runs velin on it. Leaves nothing behind but the build directory.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/install-deps.sh"
bash "$top/scripts/build.sh"
velin="${BUILD_DIR:-$top/build}/src/velin"

work=$(mktemp -d /tmp/velin-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a "$top/examples/demo" "$work/app"
sqlite3 "$work/app/var/app.db" < "$work/app/seed.sql"
cd "$work/app"

echo "== velin config check (demo app in $work/app)"
"$velin" config check
echo "demo: OK"
