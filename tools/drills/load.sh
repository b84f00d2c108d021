#!/usr/bin/env bash
# Load drill (issue 23, docs/reliability.md): the full demo province in a
# fresh PostgreSQL database, served by two `pingan serve` instances at
# once; `pingan bench load` runs 200 clients for 5 minutes that mix the
# office's reads (scores, values, regions, framework) with a department's
# submissions (dataValueSets, a batch every tenth request, every fifth
# batch sent twice as a retry), spread over both instances. It then checks
# every submitted value is stored once with the last value sent; here the
# database is also asked directly, and the ledger must verify.
#
#   tools/drills/load.sh [DEMO_DIR]   (default: a new `pingan demo --no-serve`)
#   SECONDS_=60 CLIENTS=50 tools/drills/load.sh …   (a shorter run)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${PINGAN_BIN:-$PWD/target/release/pingan}
RUN_SECONDS=${SECONDS_:-300}
CLIENTS=${CLIENTS:-200}
P1=${PORT1:-18091}
P2=${PORT2:-18092}
W=$(mktemp -d /tmp/pingan-load.XXXXXX)
PGNAME=pingan_load_drill_$$
PG=postgres://postgres@127.0.0.1:5432/$PGNAME
pg() { PGOPTIONS=--client-min-messages=warning psql -q -h 127.0.0.1 -U postgres -d "${2:-test}" -tA -c "$1"; }
SERVERS=()
cleanup() {
  for s in "${SERVERS[@]}"; do kill "$s" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pg "DROP DATABASE IF EXISTS $PGNAME" >/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
export PINGAN_USER=演练
DEMO=${1:-}
if [ -z "$DEMO" ]; then
  DEMO=$W/demo
  echo "== pingan demo --no-serve (the full province)"
  "$BIN" demo --no-serve --out "$DEMO" >/dev/null 2>&1
fi
pg "DROP DATABASE IF EXISTS $PGNAME" >/dev/null
pg "CREATE DATABASE $PGNAME" >/dev/null
echo "== the demo database into PostgreSQL"
"$BIN" backup --db "sqlite://$DEMO/pingan.db" --out "$W/demo.jsonl.gz" >/dev/null
"$BIN" restore --db "$PG" --from "$W/demo.jsonl.gz" >/dev/null
PASS=drill-Passw0rd-$$!
# Names of this run, so a demo that already has drill accounts still works.
OFFICE=drill-office-$$
DEPT=drill-gongan-$$
PINGAN_DB=$PG PINGAN_PASSWORD=$PASS "$BIN" user add "$OFFICE" --role office_admin --no-force-change >/dev/null
PINGAN_DB=$PG PINGAN_PASSWORD=$PASS "$BIN" user add "$DEPT" --role department --department 公安 --no-force-change >/dev/null

for port in "$P1" "$P2"; do
  PINGAN_DB=$PG "$BIN" serve --bind "127.0.0.1:$port" --risk-refresh-minutes 0 >"$W/serve-$port.log" 2>&1 &
  SERVERS+=($!)
done
for port in "$P1" "$P2"; do
  for _ in $(seq 1 300); do curl -s -o /dev/null "http://127.0.0.1:$port/login" && break; sleep 0.2; done
done
echo "== $CLIENTS clients for $RUN_SECONDS s on two instances (127.0.0.1:$P1, 127.0.0.1:$P2)"
fails=0
"$BIN" bench load --addr "127.0.0.1:$P1" --addr "127.0.0.1:$P2" \
  --reader "$OFFICE:$PASS" --submitter "$DEPT:$PASS" \
  --dir "$DEMO" --clients "$CLIENTS" --seconds "$RUN_SECONDS" | tee "$W/bench.txt" || fails=1

# The database's own count: one row per key sent, none twice.
keys=$(grep -o '核对 [0-9]* 个数据项' "$W/bench.txt" | grep -o '[0-9]*' || echo 0)
rows=$(pg "SELECT count(*) FROM data_values WHERE submitted_by = '$DEPT'" "$PGNAME")
dups=$(pg "SELECT count(*) FROM (SELECT 1 FROM data_values WHERE submitted_by = '$DEPT' GROUP BY region, period, element HAVING count(*) > 1) d" "$PGNAME")
if [ "$rows" = "$keys" ] && [ "$dups" = 0 ]; then
  echo "  ok: the database holds $rows values of the drill, one per key"
else
  echo "  FAILED: the database holds $rows values of the drill for $keys keys ($dups keys more than once)"
  fails=1
fi
if PINGAN_DB=$PG "$BIN" audit verify 2>&1 | grep -q 校验通过; then
  echo "  ok: the ledger verifies ($(pg "SELECT count(*) FROM audit" "$PGNAME") entries)"
else
  echo "  FAILED: the ledger does not verify"
  fails=1
fi
for port in "$P1" "$P2"; do
  if grep -qiE 'panic|ERROR' "$W/serve-$port.log"; then
    echo "  FAILED: instance $port logged errors:"; grep -iE 'panic|ERROR' "$W/serve-$port.log" | head -3
    fails=1
  fi
done
exit $fails
