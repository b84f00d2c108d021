#!/usr/bin/env bash
# Disk-full and read-only drill (issue 23, docs/reliability.md). A served
# SQLite database on a small tmpfs: the disk is filled, then remounted
# read-only. Each time a department's submission and a command-line import
# must fail with a clear Chinese message and write nothing, while the
# running server keeps answering reads; once space is back, the same
# import completes and the ledger verifies.
#
#   sudo tools/drills/diskfull.sh          (needs root: it mounts a tmpfs)
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
DB=sqlite://$M/p.db
export PINGAN_DB=$DB PINGAN_USER=演练
"$BIN" init >/dev/null
"$BIN" import regions "$W/p/regions.csv" >/dev/null
"$BIN" import benchmarks "$W/p/benchmarks.csv" >/dev/null
"$BIN" import values "$W/v2023.csv" >/dev/null
PINGAN_PASSWORD=drill-Passw0rd! "$BIN" user add office --role office_admin --no-force-change >/dev/null
town=$(awk -F, '$4=="township"{print $1; exit}' "$W/p/regions.csv")
head=$("$BIN" audit head 2>/dev/null)
"$BIN" serve --bind "127.0.0.1:$PORT" --risk-refresh-minutes 0 >"$W/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/login" && break; sleep 0.2; done
J=$W/cookies
curl -s -c "$J" -H 'content-type: application/json' -H "Origin: http://127.0.0.1:$PORT" \
  -d '{"username":"office","password":"drill-Passw0rd!"}' "http://127.0.0.1:$PORT/api/v1/session" >/dev/null
get() { curl -s -o /dev/null -w '%{http_code}' -b "$J" "http://127.0.0.1:$PORT$1"; }
put_value() { # a write through the API: POST dataValueSets
  curl -s -o "$W/write.json" -w '%{http_code}' -b "$J" -H 'content-type: application/json' \
    -H "Origin: http://127.0.0.1:$PORT" \
    -d "{\"dataValues\":[{\"region\":\"$town\",\"period\":\"2023-06\",\"element\":\"criminal_cases\",\"value\":$1}]}" \
    "http://127.0.0.1:$PORT/api/v1/dataValueSets"
}
expect "the server answers before the drill" '[ "$(get /api/v1/scores?period=2023)" = 200 ]'

for fault in full readonly; do
  echo "== $fault"
  if [ $fault = full ]; then
    dd if=/dev/zero of="$M/fill" bs=1M status=none 2>/dev/null || true
  else
    rm -f "$M/fill"
    mount -o remount,ro "$M"
  fi
  code=$(put_value 4242)
  expect "a write through the API is refused with 503 ($code)" '[ "$code" = 503 ]'
  expect "…saying so in Chinese: $(head -c 160 "$W/write.json")" 'grep -q "磁盘已满或数据库为只读" "$W/write.json"'
  expect "the server keeps serving reads (/api/v1/scores)" '[ "$(get /api/v1/scores?period=2023)" = 200 ]'
  expect "…and pages (/)" '[ "$(get /)" = 200 ]'
  out=$("$BIN" import values "$W/v2024.csv" 2>&1) && rc=0 || rc=$?
  expect "a command-line import fails (exit $rc): $(echo "$out" | head -1 | head -c 200)" '[ $rc != 0 ] && echo "$out" | grep -q "磁盘"'
  [ $fault = full ] && rm -f "$M/fill" || mount -o remount,rw "$M"
  expect "the ledger head is unchanged and verifies" '[ "$("$BIN" audit head 2>/dev/null)" = "$head" ] && "$BIN" audit verify 2>&1 | grep -q 校验通过'
  expect "nothing of the refused write is stored" '! "$BIN" scores --period 2023 --format json >/dev/null 2>&1 || [ "$(get "/api/v1/values?region=$town&period=2023-06&element=criminal_cases" )" = 200 ] && ! curl -s -b "$J" "http://127.0.0.1:$PORT/api/v1/values?region=$town&period=2023-06&element=criminal_cases" | grep -q 4242'
done
echo "== space and write access back"
"$BIN" import values "$W/v2024.csv" >/dev/null
expect "the import completes" '"$BIN" scores --period 2024 --format json >"$W/db.json"'
"$BIN" score --regions "$W/p/regions.csv" --values "$W/p/values.csv" --benchmarks "$W/p/benchmarks.csv" --period 2024 --format json >"$W/files.json"
expect "scores equal the files'" 'cmp -s "$W/db.json" "$W/files.json"'
expect "the ledger verifies" '"$BIN" audit verify 2>&1 | grep -q 校验通过'
echo "== $fails failed"
[ "$fails" = 0 ]
