-- pingan store, version 1: regions, frameworks, values, benchmarks, scores, audit ledger.
-- Users, sessions and tokens arrive with the server (a later migration).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE regions (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    parent     TEXT,
    level      TEXT NOT NULL,
    valid_from TEXT,
    valid_to   TEXT,
    ord        BIGINT NOT NULL
);

CREATE TABLE departments (
    name TEXT PRIMARY KEY
);

-- A framework version applies from year_from until a later one replaces it.
CREATE TABLE frameworks (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    year_from   INTEGER NOT NULL,
    source      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL
);

CREATE TABLE elements (
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    unit         TEXT NOT NULL,
    department   TEXT NOT NULL,
    PRIMARY KEY (framework_id, code)
);

CREATE TABLE imports (
    id        BIGSERIAL PRIMARY KEY,
    kind      TEXT NOT NULL,
    file      TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    rows      BIGINT NOT NULL,
    imported  BIGINT NOT NULL,
    updated   BIGINT NOT NULL,
    ignored   BIGINT NOT NULL,
    user_name TEXT NOT NULL,
    client    TEXT NOT NULL,
    at        TEXT NOT NULL
);

CREATE TABLE data_values (
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
    PRIMARY KEY (region, period, element, source)
);
CREATE INDEX data_values_year ON data_values (year);

CREATE TABLE benchmarks (
    code      TEXT NOT NULL,
    period    TEXT NOT NULL,
    year      INTEGER NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    import_id BIGINT,
    PRIMARY KEY (code, period)
);

-- One scoring of a period with one framework version (the cycle's record).
CREATE TABLE score_runs (
    id           BIGSERIAL PRIMARY KEY,
    framework_id BIGINT NOT NULL REFERENCES frameworks(id),
    period       TEXT NOT NULL,
    computed_at  TEXT NOT NULL,
    UNIQUE (framework_id, period)
);

CREATE TABLE score_results (
    run_id BIGINT NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
    ord    BIGINT NOT NULL,
    region TEXT NOT NULL,
    level  TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (run_id, region)
);

-- The ledger: every write, hash-chained. ids come from audit_head.seq so a
-- removed row leaves a visible gap; the head row serialises appends.
CREATE TABLE audit (
    id        BIGINT PRIMARY KEY,
    at        TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action    TEXT NOT NULL,
    object    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    reason    TEXT NOT NULL,
    client    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_at ON audit (at);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
