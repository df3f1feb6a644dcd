#!/usr/bin/env bash
# Database backup benchmark (issue 5, Performance). For each engine, in one run, on a
# throwaway server on loopback:
#   PostgreSQL 15: a pgbench database of scale $SCALE (default 50, about 800 MB)
#   MariaDB 10.11: the same shape (accounts/branches/tellers, $SCALE x 100,000 accounts of
#                  ~100 bytes each, the filler a left-padded number so MariaDB keeps it), loaded
#                  with the SEQUENCE engine
# it times
#   1. bare   the dump tool alone, > /dev/null (pg_dump -Fc -Z0 / mariadb-dump --single-transaction)
#   2. pipe   the dump tool | cat > /dev/null: what any reader of the stream costs the dump
#             tool and the machine (pipe writes, wake-ups, the copy), velin's floor
#   3. velin  backup create (db only, zstd level 3) into a fresh repository
#      (1, 2 and 3 in turns, $ROUNDS times each: every raw figure and the medians)
#   4.        the dump tool | gzip > /dev/null (once)
# then updates 1 % of the accounts spread evenly (every 100th row) and runs a second velin
# backup, then 1 % clustered (the newest rows) and a third, reporting the bytes each added.
# The same three dumps also go through `restic backup --stdin` (when restic is installed), so
# that what deduplication can save on such a change is measured on a peer too.
# Targets: velin <= 1.10 x the bare dump; the second backup adds < 10 % of the first.
#
# Usage: bench/db_bench.sh [path/to/velin]   (as root: initdb runs as user postgres)
#   ENGINES="postgresql mariadb"  which engines (default both)   SCALE=50   ROUNDS=3
#   LEVEL=1  backup.compression_level for velin (default: velin's, zstd 3)
#   VELIN_B=path/to/other/velin  a second build, timed in the same turns as "velin-b" (A/B)
set -euo pipefail
VELIN=${1:-build/src/velin}
VELIN=$(realpath "$VELIN")
[ -n "${VELIN_B:-}" ] && VELIN_B=$(realpath "$VELIN_B")
SCALE=${SCALE:-50}
ROUNDS=${ROUNDS:-3}
ENGINES=${ENGINES:-postgresql mariadb}
PGBIN=/usr/lib/postgresql/15/bin
rows=$((SCALE * 100000))
work=$(mktemp -d "${TMPDIR:-/tmp}/velin-db-bench-XXXXXX")
chmod 755 "$work"
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
cleanup() {
  if [ -e "$work/pg/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -m fast -w stop >/dev/null 2>&1 || true
    while [ -e "$work/pg/postmaster.pid" ]; do sleep 0.1; done
  fi
  if [ -e "$work/my/pid" ]; then
    kill "$(cat "$work/my/pid")" 2>/dev/null || true
    while [ -e "$work/my/pid" ]; do sleep 0.1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# CPU seconds the database server ($SERVER_PID) and its reaped children have used so far.
server_cpu() {
  awk -v t="$(getconf CLK_TCK)" '{ print ($14 + $15 + $16 + $17) / t }' "/proc/$SERVER_PID/stat"
}
seconds() { local s=$EPOCHREALTIME; "$@"; awk "BEGIN { print $EPOCHREALTIME - $s }"; }
have_restic=0
command -v restic >/dev/null 2>&1 && have_restic=1
export RESTIC_PASSWORD=velin-bench

# Runs one engine's measurements. $1 engine name, $2 dump command (to stdout), $3 SQL client
# command (reads SQL on stdin), $4 velin [database] lines.
measure() {
  local engine=$1 dump=$2 sql=$3 dbconf=$4
  local dir=$work/$engine
  mkdir -p "$dir/app"
  cd "$dir"
  local t_gzip t_velin2
  t_gzip=$(seconds sh -c "$dump | gzip > /dev/null")
  printf '[app]\nroot = "app"\n[backup]\ninclude = ["db"]\ndestination = "repo"\n%s\n%s\n' \
    "${LEVEL:+compression_level = $LEVEL}" "$dbconf" > velin.toml
  # The bare dump and velin in turns, ROUNDS times each, velin into a fresh repository each
  # time: wall, and CPU (user + sys of the process and its children: the dump tool, not the
  # server) under GNU time, with the 1-minute load average before each run, and the CPU the
  # database server spent meanwhile (its threads, or its exited backends).
  : >rounds.tsv
  local round
  for round in $(seq "$ROUNDS"); do
    rm -rf repo
    local s0 t load
    load=$(cut -d' ' -f1 /proc/loadavg) s0=$(server_cpu)
    t=$(/usr/bin/time -f '%e %U %S %M' sh -c "$dump > /dev/null" 2>&1 >/dev/null | tail -1)
    sleep 0.3  # PostgreSQL's backends are counted once the postmaster reaped them
    echo "bare $load $t $(awk "BEGIN { print $(server_cpu) - $s0 }")" >>rounds.tsv
    # The same dump into a pipe that only copies it away: what any reader of the stream,
    # velin included, costs the dump tool and the machine before it does anything.
    load=$(cut -d' ' -f1 /proc/loadavg) s0=$(server_cpu)
    t=$(/usr/bin/time -f '%e %U %S %M' sh -c "$dump | cat > /dev/null" 2>&1 >/dev/null | tail -1)
    sleep 0.3
    echo "pipe $load $t $(awk "BEGIN { print $(server_cpu) - $s0 }")" >>rounds.tsv
    rm -rf repo
    load=$(cut -d' ' -f1 /proc/loadavg) s0=$(server_cpu)
    t=$(/usr/bin/time -f '%e %U %S %M' "$VELIN" backup create --json 2>&1 >first.json | tail -1)
    sleep 0.3
    echo "velin $load $t $(awk "BEGIN { print $(server_cpu) - $s0 }")" >>rounds.tsv
    if [ -n "${VELIN_B:-}" ]; then
      rm -rf repo
      load=$(cut -d' ' -f1 /proc/loadavg) s0=$(server_cpu)
      t=$(/usr/bin/time -f '%e %U %S %M' "$VELIN_B" backup create --json 2>&1 >/dev/null | tail -1)
      sleep 0.3
      echo "velin-b $load $t $(awk "BEGIN { print $(server_cpu) - $s0 }")" >>rounds.tsv
    fi
  done
  local r1=0 r2=0 r3=0
  if [ $have_restic = 1 ]; then
    restic init -q -r restic-repo
    r1=$(sh -c "$dump" | restic -r restic-repo backup -q --json --stdin --stdin-filename db |
      python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["data_added"])')
  fi
  echo "UPDATE accounts_t SET abalance = abalance + 1 WHERE aid % 100 = 0;" |
    sed "s/accounts_t/$ACCOUNTS/" | sh -c "$sql"
  t_velin2=$(seconds sh -c "'$VELIN' backup create --json > second.json")
  if [ $have_restic = 1 ]; then
    r2=$(sh -c "$dump" | restic -r restic-repo backup -q --json --stdin --stdin-filename db |
      python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["data_added"])')
  fi
  echo "UPDATE $ACCOUNTS SET abalance = abalance + 1 WHERE aid > $((rows - rows / 100));" |
    sh -c "$sql"
  "$VELIN" backup create --json > third.json
  if [ $have_restic = 1 ]; then
    r3=$(sh -c "$dump" | restic -r restic-repo backup -q --json --stdin --stdin-filename db |
      python3 -c 'import json,sys; print(json.loads(sys.stdin.read().splitlines()[-1])["data_added"])')
  fi
  python3 - "$engine" "$t_gzip" "$t_velin2" "$r1" "$r2" "$r3" <<'PY'
import json, sys
engine = sys.argv[1]
gz, velin2 = map(float, sys.argv[2:4])
r1, r2, r3 = map(int, sys.argv[4:7])
a1, a2, a3 = (json.load(open(f))["bytes_added"] for f in ("first.json", "second.json", "third.json"))
raw = json.load(open("first.json"))["bytes_read"]
print(f"\n### {engine}\n")
print("| run | contender | load before | wall s | user s | sys s | peak RSS KiB | server CPU s |\n|---|---|---:|---:|---:|---:|---:|---:|")
rounds = [l.split() for l in open("rounds.tsv")]
seen = {}
for r in rounds:
    seen[r[0]] = seen.get(r[0], 0) + 1
    print(f"| {seen[r[0]]} | {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} |")
def median(xs):
    xs = sorted(xs); n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
kinds = ("bare", "pipe", "velin") + (("velin-b",) if any(r[0] == "velin-b" for r in rounds) else ())
cpu = {k: median([float(r[3]) + float(r[4]) for r in rounds if r[0] == k]) for k in kinds}
srv = {k: median([float(r[6]) for r in rounds if r[0] == k]) for k in kinds}
wall = {k: median([float(r[2]) for r in rounds if r[0] == k]) for k in kinds}
bare, velin = wall["bare"], wall["velin"]
print(f"\n| median | wall s | vs bare dump | CPU s (user + sys) | server CPU s |\n|---|---:|---:|---:|---:|")
print(f"| dump > /dev/null | {bare:.2f} | 1.00 | {cpu['bare']:.2f} | {srv['bare']:.2f} |")
print(f"| dump \\| cat > /dev/null | {wall['pipe']:.2f} | {wall['pipe'] / bare:.2f} | {cpu['pipe']:.2f} | {srv['pipe']:.2f} |")
print(f"| dump \\| gzip > /dev/null (one run) | {gz:.2f} | {gz / bare:.2f} | | |")
print(f"| velin backup create (db) | {velin:.2f} | {velin / bare:.2f} (target <= 1.10) | {cpu['velin']:.2f} | {srv['velin']:.2f} |")
if "velin-b" in wall:
    print(f"| velin-b (VELIN_B) backup create (db) | {wall['velin-b']:.2f} | {wall['velin-b'] / bare:.2f} | {cpu['velin-b']:.2f} | {srv['velin-b']:.2f} |")
print(f"\nvelin against the dump into a pipe (`dump | cat`): {velin / wall['pipe']:.2f} x the wall time")
print(f"\nvelin's own CPU (its CPU minus the bare dump's): {cpu['velin'] - cpu['bare']:.2f} s for {raw / 1e9:.3f} GB of dump = {(cpu['velin'] - cpu['bare']) / (raw / 1e9):.2f} s per GB")
print(f"\ndump size {raw / 1e6:.1f} MB; bytes added (after compression):\n")
print("| backup | velin MB | % of first | restic MB | % of first |\n|---|---:|---:|---:|---:|")
def pct(a, b): return f"{100.0 * a / b:.1f}" if b else "-"
print(f"| first | {a1 / 1e6:.2f} | 100 | {r1 / 1e6:.2f} | 100 |")
print(f"| after 1 % spread update (target < 10 %) | {a2 / 1e6:.2f} | {pct(a2, a1)} | {r2 / 1e6:.2f} | {pct(r2, r1)} |")
print(f"| after 1 % clustered update | {a3 / 1e6:.2f} | {pct(a3, a1)} | {r3 / 1e6:.2f} | {pct(r3, r1)} |")
print(f"\n(second velin backup took {velin2:.2f} s)")
PY
}

for engine in $ENGINES; do
  port=$(free_port)
  case $engine in
    postgresql)
      mkdir -p "$work/pg-sock" "$work/pg" && chown postgres "$work/pg-sock" "$work/pg"
      runuser -u postgres -- "$PGBIN/initdb" -D "$work/pg" -A trust -U postgres --no-sync >/dev/null
      runuser -u postgres -- "$PGBIN/pg_ctl" -D "$work/pg" -l "$work/pg-sock/pg.log" -w \
        -o "-p $port -k $work/pg-sock -c listen_addresses=127.0.0.1" start >/dev/null
      export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
      SERVER_PID=$(head -1 "$work/pg/postmaster.pid")
      psql -Xq -c "CREATE DATABASE bench" postgres
      echo "pgbench -i -s $SCALE ..." >&2
      pgbench -i -q -s "$SCALE" bench 2>&1 | tail -1 >&2
      ACCOUNTS=pgbench_accounts
      measure postgresql "pg_dump -Fc -Z0 -d bench" "psql -Xq bench" \
        "$(printf '[database]\ndriver = "postgresql"\nhost = "127.0.0.1"\nport = %s\nuser = "postgres"\nname = "bench"' "$port")"
      ;;
    mariadb)
      mkdir -p "$work/my"
      mariadb-install-db --no-defaults --datadir="$work/my/data" --user=root --skip-test-db \
        --auth-root-authentication-method=normal >/dev/null 2>&1
      mariadbd --no-defaults --datadir="$work/my/data" --socket="$work/my/sock" --port="$port" \
        --bind-address=127.0.0.1 --pid-file="$work/my/pid" --user=root \
        --tmpdir="$work/my" --log-error="$work/my/err.log" --innodb-buffer-pool-size=1G &
      until mariadb --no-defaults -S "$work/my/sock" -uroot -e 'select 1' >/dev/null 2>&1; do sleep 0.2; done
      my="mariadb --no-defaults -h127.0.0.1 -P$port -uroot"
      SERVER_PID=$(cat "$work/my/pid")
      echo "loading $rows accounts into MariaDB ..." >&2
      $my <<SQL
CREATE DATABASE bench;
USE bench;
CREATE TABLE branches (bid INT PRIMARY KEY, bbalance INT, filler CHAR(88));
CREATE TABLE tellers (tid INT PRIMARY KEY, bid INT, tbalance INT, filler CHAR(84));
CREATE TABLE accounts (aid INT PRIMARY KEY, bid INT, abalance INT, filler CHAR(84));
INSERT INTO branches SELECT seq, 0, '' FROM seq_1_to_$SCALE;
INSERT INTO tellers SELECT seq, (seq - 1) DIV 10 + 1, 0, '' FROM seq_1_to_$((SCALE * 10));
INSERT INTO accounts SELECT seq, (seq - 1) DIV 100000 + 1, 0, LPAD(seq, 84, ' ') FROM seq_1_to_$rows;
SQL
      ACCOUNTS=accounts
      measure mariadb "mariadb-dump --no-defaults -h127.0.0.1 -P$port -uroot --single-transaction --routines --triggers --events bench" \
        "$my bench" \
        "$(printf '[database]\ndriver = "mysql"\nhost = "127.0.0.1"\nport = %s\nuser = "root"\nname = "bench"' "$port")"
      ;;
    *) echo "unknown engine $engine" >&2; exit 2 ;;
  esac
done
