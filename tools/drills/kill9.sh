#!/usr/bin/env bash
# Kill -9 drill (issue 23, docs/reliability.md): a values import of about a
# million rows, an events import and a survey-responses import, each killed
# with SIGKILL at a random moment, on SQLite and on PostgreSQL. After each
# kill: the ledger's head is unchanged and verifies, a dry run finds every
# row still to write (nothing of the killed import was kept), the same
# import then completes, and the stored scores equal `pingan score` on the
# files.
#
#   tools/drills/kill9.sh [ROUNDS]        (default 3 per import and backend)
#
# Needs a release binary (cargo build --release; or PINGAN_BIN) and, for the
# PostgreSQL half, psql and a server on 127.0.0.1:5432 with trust auth
# (PINGAN_TEST_PG=off skips it).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${PINGAN_BIN:-target/release/pingan}
ROUNDS=${1:-3}
W=$(mktemp -d /tmp/pingan-kill9.XXXXXX)
trap 'rm -rf "$W"' EXIT
P=$W/province
echo "== generating a province (400 townships, 2022–2024, 300 000 events, 3 000 answers)"
"$BIN" generate --out "$P" --cities 5 --counties 40 --townships 400 --years 2022-2024 \
  --events 300000 --survey 3000 >/dev/null
echo "   values.csv: $(($(wc -l <"$P/values.csv") - 1)) rows"
"$BIN" score --regions "$P/regions.csv" --values "$P/values.csv" --benchmarks "$P/benchmarks.csv" \
  --period 2024 --format json >"$W/file-scores.json"

pg_db() { # a fresh PostgreSQL database's URL
  local name="pingan_kill9_$$_$1"
  PGOPTIONS=--client-min-messages=warning psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" >/dev/null
  echo "postgres://postgres@127.0.0.1:5432/$name"
}
pg_drop() { PGOPTIONS=--client-min-messages=warning psql -q -h 127.0.0.1 -U postgres -d test -c "DROP DATABASE IF EXISTS pingan_kill9_$$_$1" >/dev/null; }

jq_field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# the import command of each kind, and what its dry run reports as still to write
import_args() {
  case $1 in
    values) echo "import values $P/values.csv" ;;
    events) echo "import events $P/events.csv" ;;
    survey) echo "import responses --year 2024 $P/responses.csv" ;;
  esac
}

prepare() { # db kind: what each import needs before it
  local db=$1 kind=$2
  "$BIN" init --db "$db" >/dev/null
  "$BIN" import regions "$P/regions.csv" --db "$db" >/dev/null
  "$BIN" import benchmarks "$P/benchmarks.csv" --db "$db" >/dev/null
  if [ "$kind" = survey ]; then
    "$BIN" import survey-form --year 2024 "$P/survey-form.xlsx" --db "$db" >/dev/null
    "$BIN" import frame --year 2024 "$P/frame.csv" --db "$db" >/dev/null
  fi
}

# Twice a dry run's time, per backend and import: kill moments are drawn
# from 5 % to 130 % of it (a few land after the commit).
declare -A FULL
fails=0
one_round() { # backend kind round
  local backend=$1 kind=$2 round=$3 db
  if [ "$backend" = sqlite ]; then db="sqlite://$W/$kind-$round.db"; else db=$(pg_db "$kind$round"); fi
  prepare "$db" "$kind"
  local head_before; head_before=$("$BIN" audit head --db "$db" 2>/dev/null)
  # shellcheck disable=SC2046
  set -- $(import_args "$kind")
  # The dry run first: what a complete import writes, and how long it takes.
  local key t0 before
  case $kind in events) key="['written']" ;; *) key="['imported']" ;; esac
  t0=$(date +%s.%N)
  before=$("$BIN" "$@" --db "$db" --dry-run --format json | jq_field "$key")
  [ -n "${FULL[$backend$kind]:-}" ] ||
    FULL[$backend$kind]=$(python3 -c "print(max(0.5, 2 * ($(date +%s.%N) - $t0)))")
  local at; at=$(python3 -c "import random; print(round(random.uniform(0.05, 1.3) * ${FULL[$backend$kind]}, 2))")
  "$BIN" "$@" --db "$db" >/dev/null 2>&1 &
  local pid=$!
  sleep "$at"
  local state=killed
  kill -9 "$pid" 2>/dev/null || state=finished
  wait "$pid" 2>/dev/null || true
  local head_after; head_after=$("$BIN" audit head --db "$db" 2>/dev/null)
  local verify; verify=$("$BIN" audit verify --db "$db" 2>&1)
  local dry; dry=$("$BIN" "$@" --db "$db" --dry-run --format json)
  local verdict=ok
  case $verify in *校验通过*) ;; *) verdict="ledger does not verify: $verify" ;; esac
  if [ "$head_after" = "$head_before" ]; then
    # nothing kept: the dry run still has every row to write
    [ "$(echo "$dry" | jq_field "$key")" = "$before" ] || verdict="rows of the killed import kept: $dry"
    state="$state before commit"
  else
    state="$state after commit"
  fi
  "$BIN" "$@" --db "$db" >/dev/null
  if [ "$kind" = values ]; then
    "$BIN" scores --db "$db" --period 2024 --format json >"$W/db-scores.json"
    cmp -s "$W/db-scores.json" "$W/file-scores.json" || verdict="scores differ from the files'"
  fi
  printf '%-8s %-7s round %s: kill at %5ss (%s), %s\n' "$backend" "$kind" "$round" "$at" "$state" "$verdict"
  [ "$verdict" = ok ] || fails=$((fails + 1))
  [ "$backend" = sqlite ] || pg_drop "$kind$round"
}

backends=(sqlite)
if [ "${PINGAN_TEST_PG:-}" != off ] && pg_isready -q -h 127.0.0.1 -p 5432; then backends+=(postgres); fi
for backend in "${backends[@]}"; do
  for kind in values events survey; do
    for round in $(seq 1 "$ROUNDS"); do one_round "$backend" "$kind" "$round"; done
  done
done
echo "== $fails failed"
[ "$fails" = 0 ]
