-- pingan store, version 28: the rest of the results loop (issue 21).
-- Problems merged into another (merged_into) and the indicator value a plan
-- promises (target_value, for the automatic 复查); the field task of an
-- on-site 复查; evidence files of progress reports (kept with their SHA-256,
-- as the field photos are); 约谈 records with their minutes; points taken
-- from a region's total for rectification not done (通报批评); the
-- correction an upheld objection led to; the final publication; and, on a
-- recorded use of the results, the 考核 weight given to the score and
-- whether a rule was applied.
ALTER TABLE rectify_items ADD COLUMN merged_into BIGINT;
ALTER TABLE rectify_items ADD COLUMN target_value DOUBLE PRECISION;
ALTER TABLE rectify_steps ADD COLUMN field_task BIGINT;

CREATE TABLE rectify_files (
    id          BIGSERIAL PRIMARY KEY,
    item_id     BIGINT NOT NULL REFERENCES rectify_items (id),
    step_id     BIGINT NOT NULL REFERENCES rectify_steps (id),
    file_name   TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    data        TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX rectify_files_item ON rectify_files (item_id, id);

CREATE TABLE interviews (
    id           BIGSERIAL PRIMARY KEY,
    year         INTEGER NOT NULL,
    region       TEXT NOT NULL,
    held_on      TEXT NOT NULL,
    interviewer  TEXT NOT NULL,
    interviewee  TEXT NOT NULL,
    summary      TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         TEXT NOT NULL,
    recorded_by  TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
CREATE INDEX interviews_year ON interviews (year, region);

CREATE TABLE deductions (
    id          BIGSERIAL PRIMARY KEY,
    year        INTEGER NOT NULL,
    region      TEXT NOT NULL,
    points      DOUBLE PRECISION NOT NULL,
    reason      TEXT NOT NULL,
    from_year   INTEGER NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX deductions_year ON deductions (year, region);

ALTER TABLE objections ADD COLUMN correction TEXT NOT NULL DEFAULT '';
ALTER TABLE objections ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE publications ADD COLUMN final_at TEXT NOT NULL DEFAULT '';
ALTER TABLE result_uses ADD COLUMN weight DOUBLE PRECISION;
ALTER TABLE result_uses ADD COLUMN applied BIGINT NOT NULL DEFAULT 1;
