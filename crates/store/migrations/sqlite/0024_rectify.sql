-- pingan store, version 24: the 整改清单 (issue 21). Each problem of a
-- region's year becomes an item under 销号管理: the region files its plan
-- (unit, person, measures, target, deadline), reports progress and asks for
-- 销号; the office closes it after a re-inspection or refuses. Every step is
-- a row of rectify_steps and an entry of the ledger.
CREATE TABLE rectify_items (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    year       INTEGER NOT NULL,
    region     TEXT NOT NULL,
    ord        BIGINT NOT NULL,
    source     TEXT NOT NULL,
    indicator  TEXT NOT NULL,
    problem    TEXT NOT NULL,
    state      TEXT NOT NULL,
    unit       TEXT NOT NULL,
    person     TEXT NOT NULL,
    measures   TEXT NOT NULL,
    target     TEXT NOT NULL,
    plan_due   TEXT NOT NULL,
    deadline   TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (year, region, ord)
);

CREATE TABLE rectify_steps (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id   BIGINT NOT NULL REFERENCES rectify_items (id),
    action    TEXT NOT NULL,
    state     TEXT NOT NULL,
    note      TEXT NOT NULL,
    recheck   TEXT NOT NULL,
    done_by   TEXT NOT NULL,
    done_at   TEXT NOT NULL
);
CREATE INDEX rectify_steps_item ON rectify_steps (item_id, id);
