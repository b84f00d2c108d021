-- pingan store, version 9: a pending value lives beside the approved one of
-- the same key instead of replacing it, so the approved figure keeps counting
-- in official scores until the new one passes the review. The review state
-- joins the primary key (SQLite cannot change a key in place: rebuild).
CREATE TABLE data_values_new (
    region       TEXT NOT NULL,
    period       TEXT NOT NULL,
    year         INTEGER NOT NULL,
    element      TEXT NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    value        DOUBLE PRECISION NOT NULL,
    note         TEXT NOT NULL DEFAULT '',
    submitted_by TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    import_id    BIGINT,
    review       TEXT NOT NULL DEFAULT 'approved',
    PRIMARY KEY (region, period, element, source, review)
);
INSERT INTO data_values_new (region, period, year, element, source, value, note, submitted_by, submitted_at, import_id, review)
    SELECT region, period, year, element, source, value, note, submitted_by, submitted_at, import_id, review FROM data_values;
DROP TABLE data_values;
ALTER TABLE data_values_new RENAME TO data_values;
CREATE INDEX data_values_year ON data_values (year);
CREATE INDEX data_values_pending ON data_values (year) WHERE review = 'pending';
