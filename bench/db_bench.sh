#!/usr/bin/env bash
# Database backup benchmark (issue 5, Performance): on a pgbench database of scale $SCALE
# (default 50, about 800 MB) in a throwaway PostgreSQL 15 cluster, compares in one run
#   1. bare   pg_dump -Fc -Z0 > /dev/null
#   2.        pg_dump -Fc | gzip > /dev/null
#   3. velin  backup create (db only, zstd level 3) into a fresh repository
# then updates 1 % of pgbench_accounts rows and runs a second velin backup, reporting the
# bytes it added. Targets: velin <= 1.10 x bare pg_dump; second backup adds < 10 % of the first.
# Usage: bench/db_bench.sh [path/to/velin]   (as root: initdb runs as user postgres)
set -euo pipefail
VELIN=${1:-build/src/velin}
VELIN=$(realpath "$VELIN")
SCALE=${SCALE:-50}
PGBIN=/usr/lib/postgresql/15/bin
work=$(mktemp -d "${TMPDIR:-/tmp}/velin-db-bench-XXXXXX")
chown postgres "$work"
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
  while [ -e "$work/pg/postmaster.pid" ]; do sleep 0.1; done
  rm -rf "$work"
}
trap cleanup EXIT

runuser -u postgres -- "$PGBIN/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w \
  -o "-p $port -k $work -c listen_addresses=127.0.0.1" start >/dev/null
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
psql -Xq -c "CREATE DATABASE bench" postgres
echo "pgbench -i -s $SCALE ..."
pgbench -i -q -s "$SCALE" bench 2>&1 | tail -1
psql -XAt -c "SELECT 'database size: ' || pg_size_pretty(pg_database_size('bench'))" bench

seconds() { local s=$EPOCHREALTIME; "$@"; awk "BEGIN { print $EPOCHREALTIME - $s }"; }
t_bare=$(seconds sh -c 'pg_dump -Fc -Z0 -d bench > /dev/null')
t_gzip=$(seconds sh -c 'pg_dump -Fc -Z0 -d bench | gzip > /dev/null')

mkdir -p "$work/app"
cat > "$work/velin.toml" <<TOML
[app]
root = "app"
[backup]
include = ["db"]
destination = "repo"
[database]
driver = "postgresql"
host = "127.0.0.1"
port = $port
user = "postgres"
name = "bench"
TOML
cd "$work"
t_velin=$(seconds sh -c "'$VELIN' backup create --json > first.json")
added1=$(python3 -c 'import json; print(json.load(open("first.json"))["bytes_added"])')
# 1 % of the rows, spread evenly (every 100th account): the worst case for deduplication, since
# every ~10 KB of the dump changes and the chunker's chunks average 1 MiB.
psql -Xq -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid % 100 = 0" bench
t_velin2=$(seconds sh -c "'$VELIN' backup create --json > second.json")
added2=$(python3 -c 'import json; print(json.load(open("second.json"))["bytes_added"])')
# 1 % of the rows, clustered (the newest accounts, as applications mostly touch recent rows).
rows=$((SCALE * 100000))
psql -Xq -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid > $((rows - rows / 100))" bench
"$VELIN" backup create --json > third.json
added3=$(python3 -c 'import json; print(json.load(open("third.json"))["bytes_added"])')

python3 - "$t_bare" "$t_gzip" "$t_velin" "$t_velin2" "$added1" "$added2" "$added3" <<'PY'
import sys
bare, gz, velin, velin2 = map(float, sys.argv[1:5])
a1, a2, a3 = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
print(f"pg_dump -Fc -Z0 > /dev/null : {bare:7.2f} s")
print(f"pg_dump | gzip > /dev/null  : {gz:7.2f} s  ({gz / bare:.2f} x bare)")
print(f"velin backup create (db)    : {velin:7.2f} s  ({velin / bare:.2f} x bare; target <= 1.10)")
print(f"first backup added          : {a1 / 1e6:9.1f} MB")
print(f"after 1 % of rows updated   : {velin2:7.2f} s, added {a2 / 1e6:.1f} MB "
      f"({100.0 * a2 / a1:.1f} % of the first; target < 10 %)")
print(f"after 1 % clustered update  : added {a3 / 1e6:.1f} MB ({100.0 * a3 / a1:.1f} % of the first)")
PY
