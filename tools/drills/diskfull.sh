#!/usr/bin/env bash
# Disk-full and read-only drill (issue 23, docs/reliability.md).
# 1. A served SQLite database on a small tmpfs whose disk is then filled.
# 2. A served PostgreSQL database made read-only
#    (default_transaction_read_only, as on a standby), the server started
#    on it afresh.
# Each time a write through the API and a command-line import must fail
# with a clear Chinese message and write nothing, while the server keeps
# answering reads; once space or write access is back, the same import
# completes, its scores equal the files' and the ledger verifies.
#
#   sudo tools/drills/diskfull.sh   (root: it mounts a tmpfs; PostgreSQL on 127.0.0.1:5432)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${PINGAN_BIN:-$PWD/target/release/pingan}
PORT=${PORT:-18089}
W=$(mktemp -d /tmp/pingan-diskfull.XXXXXX)
M=$W/disk
mkdir -p "$M"
mount -t tmpfs -o size=48m tmpfs "$M"
SERVER=
cleanup() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; umount "$M" 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
fails=0
expect() { # description, condition
  if eval "$2"; then echo "  ok: $1"; else echo "  FAILED: $1"; fails=$((fails + 1)); fi
}

"$BIN" generate --out "$W/p" --cities 1 --counties 3 --townships 24 --years 2023-2024 >/dev/null
# 2023 goes in now; 2024 is the import the full disk refuses.
(head -1 "$W/p/values.csv"; grep ',2023' "$W/p/values.csv") >"$W/v2023.csv"
(head -1 "$W/p/values.csv"; grep ',2024' "$W/p/values.csv") >"$W/v2024.csv"
PGNAME=pingan_ro_drill_$$
pg() { PGOPTIONS=--client-min-messages=warning psql -q -h 127.0.0.1 -U postgres -d test -c "$1" >/dev/null; }
export PINGAN_USER=演练
town=$(awk -F, '$4=="township"{print $1; exit}' "$W/p/regions.csv")
J=$W/cookies

serve() { # db [keep]: start a server on it and sign in as the office (keep: the session signed in before)
  [ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
  PINGAN_DB=$1 "$BIN" serve --bind "127.0.0.1:$PORT" --risk-refresh-minutes 0 >"$W/serve.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.2; done
  [ -z "${2:-}" ] || return 0
  curl -s -c "$J" -H 'content-type: application/json' -H "Origin: http://127.0.0.1:$PORT" \
    -d '{"username":"office","password":"drill-Passw0rd!"}' "http://127.0.0.1:$PORT/api/v1/session" >/dev/null
}
get() { curl -s -o /dev/null -w '%{http_code}' -b "$J" "http://127.0.0.1:$PORT$1"; }
put_value() { # a write through the API: POST dataValueSets
  curl -s -o "$W/write.json" -w '%{http_code}' -b "$J" -H 'content-type: application/json' \
    -H "Origin: http://127.0.0.1:$PORT" \
    -d "{\"dataValues\":[{\"region\":\"$town\",\"period\":\"2023-06\",\"element\":\"criminal_cases\",\"value\":$1}]}" \
    "http://127.0.0.1:$PORT/api/v1/dataValueSets"
}
setup() { # db: the province's 2023 and an office account
  PINGAN_DB=$1 "$BIN" init >/dev/null
  PINGAN_DB=$1 "$BIN" import regions "$W/p/regions.csv" >/dev/null
  PINGAN_DB=$1 "$BIN" import benchmarks "$W/p/benchmarks.csv" >/dev/null
  PINGAN_DB=$1 "$BIN" import values "$W/v2023.csv" >/dev/null
  PINGAN_DB=$1 PINGAN_PASSWORD=drill-Passw0rd! "$BIN" user add office --role office_admin --no-force-change >/dev/null
}
refused() { # db label: the API write and the CLI import are refused, reads go on
  local db=$1 code out rc
  code=$(put_value 4242)
  expect "$2: a write through the API is refused with 503 ($code)" '[ "$code" = 503 ]'
  expect "$2: …saying so in Chinese: $(python3 -c "import json; print(json.load(open('$W/write.json'))['message'][:60])" 2>/dev/null)" 'grep -q "磁盘已满或数据库为只读" "$W/write.json"'
  expect "$2: the server keeps serving reads (/api/v1/scores)" '[ "$(get /api/v1/scores?period=2023)" = 200 ]'
  expect "$2: …and pages (/)" '[ "$(get /)" = 200 ]'
  out=$(PINGAN_DB=$db "$BIN" import values "$W/v2024.csv" 2>&1) && rc=0 || rc=$?
  expect "$2: a command-line import fails (exit $rc): $(echo "$out" | grep -o '数据库无法写入[^（]*（[^）]*）\|无法连接数据库.*' | head -1)" '[ $rc != 0 ] && echo "$out" | grep -q "磁盘"'
}
recovered() { # db label head: the import completes, scores equal the files', the ledger verifies
  local db=$1 head0=$3
  expect "$2: the ledger head is unchanged" '[ "$(PINGAN_DB=$db "$BIN" audit head 2>/dev/null)" = "$head0" ]'
  expect "$2: nothing of the refused write is stored" '! curl -s -b "$J" "http://127.0.0.1:$PORT/api/v1/values?region=$town&period=2023-06&element=criminal_cases" | grep -q 4242'
  PINGAN_DB=$db "$BIN" import values "$W/v2024.csv" >/dev/null
  PINGAN_DB=$db "$BIN" scores --period 2024 --format json >"$W/db.json"
  expect "$2: after recovery the import completes and its scores equal the files'" 'cmp -s "$W/db.json" "$W/files.json"'
  expect "$2: the ledger verifies" 'PINGAN_DB=$db "$BIN" audit verify 2>&1 | grep -q 校验通过'
}
"$BIN" score --regions "$W/p/regions.csv" --values "$W/p/values.csv" --benchmarks "$W/p/benchmarks.csv" \
  --period 2024 --format json >"$W/files.json"

echo "== disk full (SQLite on a 48 MB tmpfs)"
DB=sqlite://$M/p.db
setup "$DB"
serve "$DB"
expect "full: the server answers before the drill" '[ "$(get /api/v1/scores?period=2023)" = 200 ]'
head=$(PINGAN_DB=$DB "$BIN" audit head 2>/dev/null)
dd if=/dev/zero of="$M/fill" bs=1M status=none 2>/dev/null || true
refused "$DB" full
rm -f "$M/fill"
recovered "$DB" full "$head"

echo "== read-only database (PostgreSQL, default_transaction_read_only)"
if pg_isready -q -h 127.0.0.1 -p 5432; then
  pg "DROP DATABASE IF EXISTS $PGNAME"
  pg "CREATE DATABASE $PGNAME"
  PG=postgres://postgres@127.0.0.1:5432/$PGNAME
  setup "$PG"
  serve "$PG" # signs in while it can: a read-only database takes no new sessions
  head=$(PINGAN_DB=$PG "$BIN" audit head 2>/dev/null)
  pg "ALTER DATABASE $PGNAME SET default_transaction_read_only = on"
  serve "$PG" keep
  refused "$PG" read-only
  pg "ALTER DATABASE $PGNAME SET default_transaction_read_only = off"
  serve "$PG" keep
  recovered "$PG" read-only "$head"
  kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=
  pg "DROP DATABASE IF EXISTS $PGNAME"
else
  echo "  skipped: PostgreSQL does not answer on 127.0.0.1:5432"
fi
echo "== $fails failed"
[ "$fails" = 0 ]
