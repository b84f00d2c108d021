-- pingan store, version 27: what a region's results were used for (issue
-- 21, seed §4.2): 政策制定, 资源配置 or 考核评价, with what was done — the
-- records behind the 测评结果应用率 of the effect evaluation.
CREATE TABLE result_uses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    year        INTEGER NOT NULL,
    region      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    note        TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX result_uses_year ON result_uses (year, region);
