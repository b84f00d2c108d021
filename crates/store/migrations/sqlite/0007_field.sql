-- pingan store, version 7: field verification (seed §5.3 实地核查) and the
-- cross-team check (§3.4). A task names a region, a period and the elements
-- to verify; each record is one team's visit, by two verifiers.
CREATE TABLE verify_tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    region      TEXT NOT NULL,
    period      TEXT NOT NULL,
    year        INTEGER NOT NULL,
    -- JSON arrays of element codes and checklist items.
    elements    TEXT NOT NULL,
    checklist   TEXT NOT NULL,
    -- manual | flag | draw | cross_team
    origin      TEXT NOT NULL,
    flag_id     BIGINT,
    parent_id   BIGINT,
    note        TEXT NOT NULL DEFAULT '',
    -- open | recorded | closed
    status      TEXT NOT NULL DEFAULT 'open',
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX verify_tasks_region ON verify_tasks (region, period);

CREATE TABLE verify_records (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id     BIGINT NOT NULL REFERENCES verify_tasks(id),
    team        TEXT NOT NULL,
    verifier_a  TEXT NOT NULL,
    verifier_b  TEXT NOT NULL,
    -- JSON: {"item": true|false}, {"element": value}
    checklist   TEXT NOT NULL,
    observed    TEXT NOT NULL,
    notes       TEXT NOT NULL DEFAULT '',
    latitude    DOUBLE PRECISION NOT NULL,
    longitude   DOUBLE PRECISION NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX verify_records_task ON verify_records (task_id);

-- Photos kept in the database (base64), so a backup holds them and several
-- server instances see the same files.
CREATE TABLE verify_photos (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id   BIGINT NOT NULL REFERENCES verify_records(id),
    file_name   TEXT NOT NULL,
    mime        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    data        TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX verify_photos_record ON verify_photos (record_id);
