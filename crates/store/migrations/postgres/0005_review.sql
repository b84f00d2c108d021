-- pingan store, version 5: the three-level review (seed §3.3, §6.1).
-- A value is 'approved' (counts in official scores) or 'pending' (submitted
-- by a department, waiting for review). Existing rows were imported by the
-- office and count, so the default is 'approved'.
ALTER TABLE data_values ADD COLUMN review TEXT NOT NULL DEFAULT 'approved';

-- One row per data set (department × region × period) that entered review.
-- A set with no row was imported directly by the office.
CREATE TABLE data_sets (
    department   TEXT NOT NULL,
    region       TEXT NOT NULL,
    period       TEXT NOT NULL,
    year         INTEGER NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    level1_by    TEXT,
    level2_by    TEXT,
    level3_by    TEXT,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (department, region, period)
);
CREATE INDEX data_sets_year ON data_sets (year, state);

-- Every transition, so a page can say why a set is where it is.
CREATE TABLE data_set_events (
    id         BIGSERIAL PRIMARY KEY,
    department TEXT NOT NULL,
    region     TEXT NOT NULL,
    period     TEXT NOT NULL,
    action     TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    user_name  TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX data_set_events_set ON data_set_events (department, region, period);
