-- pingan store, version 4: the follow-up queue of quality flags (seed §3.4,
-- §6.1). One row per (region, element, period, kind, rule): a check that
-- finds the same problem again updates the open row instead of adding one.
CREATE TABLE quality_flags (
    id              BIGSERIAL PRIMARY KEY,
    region          TEXT NOT NULL,
    element         TEXT NOT NULL,
    period          TEXT NOT NULL,
    year            INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    rule            TEXT NOT NULL DEFAULT '',
    score           DOUBLE PRECISION NOT NULL,
    message         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open',
    found_at        TEXT NOT NULL,
    found_by        TEXT NOT NULL,
    resolved_at     TEXT,
    resolved_by     TEXT,
    resolution      TEXT NOT NULL DEFAULT '',
    corrected_value DOUBLE PRECISION,
    UNIQUE (region, element, period, kind, rule)
);
CREATE INDEX quality_flags_status ON quality_flags (status, year);
