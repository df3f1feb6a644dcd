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
mkdir -p "$work/app/var"  # git keeps no empty directory: the database's home is made here
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

echo "== comparing the restored files with the original"
diff -r --exclude='*.tmp' "$work/app/storage/uploads" "$work/restored/storage/uploads"
echo "uploads: identical"

echo "== velin backup verify latest --restore-test (loads the database into a temporary copy)"
"$velin" backup verify latest --restore-test

echo "== damaging the live database, then velin backup restore latest --only db --yes"
sqlite3 "$work/app/var/app.db" .dump > "$work/before.sql"
sqlite3 "$work/app/var/app.db" "DELETE FROM orders WHERE id % 2 = 0; UPDATE customers SET name = 'oops';"
"$velin" backup restore latest --only db --yes
sqlite3 "$work/app/var/app.db" .dump | diff "$work/before.sql" -
echo "database: identical to the backed-up state"
echo "demo: OK — backed up, verified, restore-tested and restored identically"
