#!/usr/bin/env python3
"""events.md §2–3 in DuckDB: the reference `pingan events aggregate` is
compared with and timed against (issue 19). Times must be written as
`YYYY-MM-DD HH:MM:SS` (China time), as `pingan generate --events` writes
them; regions are read for their file order.

    python3 tools/events_duckdb.py EVENTS.csv REGIONS.csv [--threads N] > out.csv
"""
import sys
import time
import duckdb

SQL = """
WITH raw AS (
  SELECT * FROM read_csv(?, all_varchar = true, header = true)
),
t AS (
  SELECT event_id, kind, region, urgency, TRY_CAST(departments AS INTEGER) AS dep,
         CAST(reported_at AS TIMESTAMP) AS rep, CAST(handled_at AS TIMESTAMP) AS han,
         CAST(dispatched_at AS TIMESTAMP) AS dis, CAST(arrived_at AS TIMESTAMP) AS arr,
         CAST(updated_at AS TIMESTAMP) AS upd
  FROM raw
),
latest AS (
  SELECT arg_max(COLUMNS(* EXCLUDE (event_id)), upd) FROM t GROUP BY event_id
),
ev AS (
  SELECT region, kind, dep,
         date_trunc('month', CASE WHEN kind = 'grid' THEN rep ELSE dis END) AS m,
         kind = 'grid' AND han IS NOT NULL AND epoch(han) - epoch(rep) <=
           CASE urgency WHEN '一般' THEN 86400 WHEN '紧急' THEN 7200 ELSE 1800 END AS timely,
         epoch(arr) - epoch(dis) AS resp
  FROM latest
),
cells AS (
  SELECT region, m,
    count(*) FILTER (kind = 'grid') AS grid_events,
    count(*) FILTER (kind = 'grid' AND timely) AS grid_events_timely,
    count(*) FILTER (kind = 'grid' AND dep >= 2) AS joint_events,
    count(*) FILTER (kind = 'grid' AND dep >= 2 AND timely) AS joint_events_timely,
    count(*) FILTER (kind = 'fire') AS fire_incidents,
    coalesce(sum(resp) FILTER (kind = 'fire'), 0) / 60.0 AS fire_response_minutes,
    count(*) FILTER (kind = 'medical') AS medical_incidents,
    coalesce(sum(resp) FILTER (kind = 'medical'), 0) / 60.0 AS medical_response_minutes
  FROM ev GROUP BY region, m
),
last AS (SELECT year(m) AS y, max(month(m)) AS lm FROM cells GROUP BY 1),
active AS (SELECT DISTINCT region, year(m) AS y FROM cells),
grid AS (
  SELECT a.region, make_date(a.y, g.mo, 1) AS m
  FROM active a JOIN last l ON a.y = l.y, range(1, 13) g(mo) WHERE g.mo <= l.lm
),
filled AS (
  SELECT g.region, g.m, coalesce(c.grid_events, 0) AS grid_events,
    coalesce(c.grid_events_timely, 0) AS grid_events_timely, coalesce(c.joint_events, 0) AS joint_events,
    coalesce(c.joint_events_timely, 0) AS joint_events_timely, coalesce(c.fire_incidents, 0) AS fire_incidents,
    coalesce(c.fire_response_minutes, 0) AS fire_response_minutes,
    coalesce(c.medical_incidents, 0) AS medical_incidents,
    coalesce(c.medical_response_minutes, 0) AS medical_response_minutes
  FROM grid g LEFT JOIN cells c ON c.region = g.region AND c.m = g.m
)
SELECT f.*, r.ord FROM filled f JOIN (
  SELECT code, row_number() OVER () AS ord FROM read_csv(?, all_varchar = true, header = true)
) r ON r.code = f.region
ORDER BY r.ord, f.m
"""

ELEMENTS = ["grid_events", "grid_events_timely", "joint_events", "joint_events_timely",
            "fire_incidents", "fire_response_minutes", "medical_incidents", "medical_response_minutes"]


def number(v):
    v = float(v)
    return str(int(v)) if v == int(v) else repr(v)


def main():
    events, regions = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 2
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    t0 = time.perf_counter()
    rows = con.execute(SQL, [events, regions]).fetchall()
    t1 = time.perf_counter()
    out = ["region,period,element,value"]
    for r in rows:
        region, m = r[0], r[1]
        for k, e in enumerate(ELEMENTS):
            out.append(f"{region},{m.year:04d}-{m.month:02d},{e},{number(r[2 + k])}")
    sys.stdout.write("\n".join(out) + "\n")
    print(f"duckdb {duckdb.__version__}, {threads} threads: query {t1 - t0:.2f} s, {len(rows)} region-months",
          file=sys.stderr)


if __name__ == "__main__":
    main()
