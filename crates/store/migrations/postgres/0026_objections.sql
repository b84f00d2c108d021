-- pingan store, version 26: objections (异议) to published results in the
-- 公示 window (issue 21): who (an account, or a member of the public by
-- name and contact), about which region, what and on what evidence; the
-- office's answer — upheld (the results are corrected and published
-- again) or not upheld — with who answered and when.
CREATE TABLE objections (
    id          BIGSERIAL PRIMARY KEY,
    year        INTEGER NOT NULL,
    region      TEXT NOT NULL,
    filed_by    TEXT NOT NULL,
    account     TEXT NOT NULL,
    contact     TEXT NOT NULL,
    content     TEXT NOT NULL,
    evidence    TEXT NOT NULL,
    filed_at    TEXT NOT NULL,
    state       TEXT NOT NULL,
    answer      TEXT NOT NULL,
    answered_by TEXT NOT NULL,
    answered_at TEXT NOT NULL
);
CREATE INDEX objections_year ON objections (year, state);
