-- pingan store, version 25: published results (issue 21, api.md
-- /api/v1/public/{year}/scores). A year's approved results as published —
-- a snapshot, so the public sees what was published and nothing else —
-- with the 公示 window it opened. Publishing again replaces the snapshot.
CREATE TABLE publications (
    year         INTEGER PRIMARY KEY,
    published_at TEXT NOT NULL,
    window_ends  TEXT NOT NULL,
    published_by TEXT NOT NULL,
    ledger_seq   BIGINT NOT NULL,
    results      TEXT NOT NULL
);
