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
"$velin" config check -q

echo "== velin backup create"
"$velin" backup create
echo "== velin backup list"
"$velin" backup list
echo "== velin backup verify latest"
"$velin" backup verify latest

echo "== velin backup restore latest --target $work/restored"
"$velin" backup restore latest --target "$work/restored" --yes

echo "== comparing the restore with the original"
diff -r --exclude='*.tmp' "$work/app/storage/uploads" "$work/restored/storage/uploads"
if [ -f "$work/restored/var/app.db" ]; then
  diff <(sqlite3 "$work/app/var/app.db" .dump) <(sqlite3 "$work/restored/var/app.db" .dump)
  echo "database: identical"
fi
echo "uploads: identical"
echo "demo: OK — backed up, verified and restored identically"
