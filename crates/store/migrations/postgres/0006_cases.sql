-- pingan store, version 6: mediation cases and callback sampling (回访抽查,
-- issue 8). Cases come from the mediation register; a draw picks a seeded,
-- reproducible share of a region's successful cases for a telephone
-- callback, and each callback's answer is kept beside the drawn case.
-- No party names or telephone numbers are stored: the callback team looks
-- the case id up in the register.
CREATE TABLE cases (
    case_id     TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    date        TEXT NOT NULL,
    year        INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    agreement   BOOLEAN NOT NULL,
    fulfilled   BOOLEAN NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    import_id   BIGINT,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX cases_year ON cases (year, region);

-- One draw per region and year: drawing again until the sample looks good
-- is what the seed and this constraint rule out.
CREATE TABLE callback_draws (
    id       BIGSERIAL PRIMARY KEY,
    region   TEXT NOT NULL,
    year     INTEGER NOT NULL,
    rate     DOUBLE PRECISION NOT NULL,
    seed     BIGINT NOT NULL,
    eligible BIGINT NOT NULL,
    drawn_at TEXT NOT NULL,
    drawn_by TEXT NOT NULL,
    UNIQUE (region, year)
);

-- A drawn case and, once called, its answer: confirmed (属实),
-- not_confirmed (不属实) or unreachable (未接通); NULL until called.
CREATE TABLE callbacks (
    draw_id   BIGINT NOT NULL REFERENCES callback_draws(id),
    case_id   TEXT NOT NULL,
    ord       BIGINT NOT NULL,
    result    TEXT,
    note      TEXT NOT NULL DEFAULT '',
    called_by TEXT,
    called_at TEXT,
    PRIMARY KEY (draw_id, case_id)
);
