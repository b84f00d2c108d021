-- pingan store, version 13: citizen surveys (issue 17, survey.md). A
-- questionnaire per year (its three XLSForm sheets as JSON, so it loads
-- without the original file), the year's sampling frame and county
-- margins, and every distinct response: kept whole, its verdict beside it
-- (NULL = valid) — an invalid answer is counted, never dropped.
CREATE TABLE survey_forms (
    id          BIGSERIAL PRIMARY KEY,
    year        INTEGER NOT NULL,
    form_id     TEXT NOT NULL,
    version     TEXT NOT NULL,
    title       TEXT NOT NULL,
    sheets      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (year, form_id, version)
);

CREATE TABLE survey_frame (
    year       INTEGER NOT NULL,
    region     TEXT NOT NULL,
    population BIGINT NOT NULL,
    ord        BIGINT NOT NULL,
    PRIMARY KEY (year, region)
);

CREATE TABLE survey_margins (
    year       INTEGER NOT NULL,
    region     TEXT NOT NULL,
    variable   TEXT NOT NULL,
    category   TEXT NOT NULL,
    population DOUBLE PRECISION NOT NULL,
    ord        BIGINT NOT NULL,
    PRIMARY KEY (year, region, variable, category)
);

CREATE TABLE survey_responses (
    form           BIGINT NOT NULL REFERENCES survey_forms(id),
    instance_id    TEXT NOT NULL,
    region         TEXT NOT NULL,
    channel        TEXT NOT NULL,
    started        TEXT NOT NULL,
    submitted      TEXT NOT NULL,
    seconds        DOUBLE PRECISION NOT NULL,
    -- one answer per question of the form, as a JSON array of strings
    answers        TEXT NOT NULL,
    -- SHA-256 of the content, to tell a resubmission from a conflict
    digest         TEXT NOT NULL,
    verdict        TEXT,
    straightlining BOOLEAN NOT NULL,
    import_id      BIGINT,
    ord            BIGINT NOT NULL,
    PRIMARY KEY (form, instance_id)
);
CREATE INDEX survey_responses_region ON survey_responses (form, region);
