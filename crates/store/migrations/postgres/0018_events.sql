-- Grid events and emergency call-outs (issue 19, events.md): the latest
-- version of each event (times in seconds since 1970; `month` is the
-- event's month in China time, `YYYY-MM`), with the digest of the row it
-- came from, so that the same version again is a duplicate and another
-- row under the same updated_at a conflict.
CREATE TABLE events (
    event_id      TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    region        TEXT NOT NULL,
    category      TEXT NOT NULL,
    urgency       TEXT,
    departments   INTEGER NOT NULL,
    reported_at   DOUBLE PRECISION NOT NULL,
    handled_at    DOUBLE PRECISION,
    dispatched_at DOUBLE PRECISION,
    arrived_at    DOUBLE PRECISION,
    updated_at    DOUBLE PRECISION NOT NULL,
    month         TEXT NOT NULL,
    digest        TEXT NOT NULL,
    import_id     BIGINT NOT NULL
);
-- The page's queries: a region's months, and what is still open.
CREATE INDEX events_month_region ON events (month, region);
CREATE INDEX events_open ON events (kind, handled_at, reported_at);
