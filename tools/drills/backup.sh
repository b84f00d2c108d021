#!/usr/bin/env bash
# Backup and restore across backends (issue 23, docs/reliability.md): the
# full demo database (SQLite) is backed up, restored into a fresh
# PostgreSQL database, backed up from there and restored into a fresh
# SQLite file. Each step is timed; every year's stored scores must be
# byte-identical along the way, and each restored ledger must verify and
# hold the original head (a restore appends its own `restore` entry).
#
#   tools/drills/backup.sh [DEMO_DIR]   (default: a new `pingan demo --no-serve`)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${PINGAN_BIN:-$PWD/target/release/pingan}
W=$(mktemp -d /tmp/pingan-backup.XXXXXX)
PGNAME=pingan_backup_drill_$$
pg() { PGOPTIONS=--client-min-messages=warning psql -q -h 127.0.0.1 -U postgres -d test -c "$1" >/dev/null; }
trap 'pg "DROP DATABASE IF EXISTS $PGNAME" || true; rm -rf "$W"' EXIT
DEMO=${1:-}
if [ -z "$DEMO" ]; then
  DEMO=$W/demo
  echo "== pingan demo --no-serve (the full province)"
  "$BIN" demo --no-serve --out "$DEMO" >/dev/null 2>&1
fi
SRC=sqlite://$DEMO/pingan.db
PG=postgres://postgres@127.0.0.1:5432/$PGNAME
BACK=sqlite://$W/back.db
pg "DROP DATABASE IF EXISTS $PGNAME"
pg "CREATE DATABASE $PGNAME"
export PINGAN_USER=演练
timed() { # label, command...
  local label=$1; shift
  local t0; t0=$(date +%s.%N)
  "$@" >/dev/null
  printf '  %-44s %6.1f s\n' "$label" "$(python3 -c "print($(date +%s.%N) - $t0)")"
}
years=$(python3 - "$DEMO" <<'PY'
import sqlite3, sys
c = sqlite3.connect(f"{sys.argv[1]}/pingan.db")
print(" ".join(str(r[0]) for r in c.execute("SELECT DISTINCT year FROM data_values ORDER BY year")))
PY
)
snapshot() { # db → a file of every year's scores
  local out=$2
  : >"$out"
  for y in $years; do "$BIN" scores --db "$1" --period "$y" --format json >>"$out"; done
}
echo "== $(du -h "$DEMO/pingan.db" | cut -f1) SQLite database, years $years"
snapshot "$SRC" "$W/a.txt"
HEAD=$("$BIN" audit head --db "$SRC" 2>/dev/null)
timed "backup of the SQLite database" "$BIN" backup --db "$SRC" --out "$W/one.jsonl.gz"
echo "  backup file: $(du -h "$W/one.jsonl.gz" | cut -f1)"
timed "restore into a fresh PostgreSQL database" "$BIN" restore --db "$PG" --from "$W/one.jsonl.gz"
snapshot "$PG" "$W/b.txt"
timed "backup of the PostgreSQL database" "$BIN" backup --db "$PG" --out "$W/two.jsonl.gz"
timed "restore into a fresh SQLite file" "$BIN" restore --db "$BACK" --from "$W/two.jsonl.gz"
snapshot "$BACK" "$W/c.txt"
fails=0
cmp -s "$W/a.txt" "$W/b.txt" && echo "  ok: PostgreSQL's scores equal the original's, byte for byte" || { echo "  FAILED: PostgreSQL's scores differ"; fails=1; }
cmp -s "$W/a.txt" "$W/c.txt" && echo "  ok: the round trip's scores equal the original's, byte for byte" || { echo "  FAILED: the round trip's scores differ"; fails=1; }
for db in "$PG" "$BACK"; do
  "$BIN" audit verify --db "$db" --head "$HEAD" 2>&1 | grep -q 校验通过 &&
    echo "  ok: the ledger verifies and holds the original head (${db%%:*})" || { echo "  FAILED: ledger of ${db%%:*}"; fails=1; }
done
echo "  scores compared: $(grep -c '^{' "$W/a.txt") years, $(wc -c <"$W/a.txt") bytes"
exit $fails
