-- pingan store, version 33: the download centre (下载中心, issue 23). A
-- whole-data export too large to make while the browser waits is made in
-- the background by the instance that took the request and kept here in
-- parts of a few MB until it is fetched; kept a week. Transient: not in
-- backups.
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    title       TEXT NOT NULL,
    params      TEXT NOT NULL,
    status      TEXT NOT NULL,
    row_count   BIGINT NOT NULL DEFAULT 0,
    byte_size   BIGINT NOT NULL DEFAULT 0,
    error       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX exports_owner ON exports (owner, id);
CREATE TABLE export_parts (
    export_id   BIGINT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    n           INTEGER NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (export_id, n)
);
