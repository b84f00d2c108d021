-- 意见箱 (issue 18): what citizens write into their township's public
-- opinion box. Phone and ID numbers are taken out before it is stored; no
-- name, no address, no IP address is kept with it.
CREATE TABLE opinions (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    year   INTEGER NOT NULL,
    region TEXT NOT NULL,
    text   TEXT NOT NULL,
    at     TEXT NOT NULL
);
CREATE INDEX opinions_year ON opinions (year, id);

-- 问题清单: a region's problem of a year, where it was found ('comments':
-- the words citizens named most; the results issue adds scores, quality
-- flags and field findings) and its evidence as JSON. The results issue
-- builds responsibility, rectification and 销号 on these rows.
CREATE TABLE problems (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    year     INTEGER NOT NULL,
    region   TEXT NOT NULL,
    origin   TEXT NOT NULL,
    title    TEXT NOT NULL,
    evidence TEXT NOT NULL,
    status   TEXT NOT NULL,
    made_by  TEXT NOT NULL,
    made_at  TEXT NOT NULL,
    UNIQUE (year, region, origin, title)
);
