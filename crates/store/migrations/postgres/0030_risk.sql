-- pingan store, version 30: forecasts and risk (issue 22). One row per
-- forecast series (region × monthly element) with its months as JSON
-- arrays and the backtest that chose its model; one row per risk run (the
-- assessed months' risks as one JSON document, read whole by the 风险预警
-- page and the map); the warnings sent to regions.
CREATE TABLE forecasts (
    region      TEXT NOT NULL,
    element     TEXT NOT NULL,
    first       TEXT NOT NULL,
    model       TEXT NOT NULL,
    body        TEXT NOT NULL,
    made_at     TEXT NOT NULL,
    PRIMARY KEY (region, element)
);
CREATE TABLE risk_runs (
    period      TEXT PRIMARY KEY,
    train_end   TEXT NOT NULL,
    data_seq    BIGINT NOT NULL,
    summary     TEXT NOT NULL,
    body        TEXT NOT NULL,
    made_by     TEXT NOT NULL,
    made_at     TEXT NOT NULL
);
CREATE TABLE risk_warnings (
    period      TEXT NOT NULL,
    region      TEXT NOT NULL,
    indicator   TEXT NOT NULL,
    message     TEXT NOT NULL,
    field_task  BIGINT,
    sent_by     TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (period, region, indicator)
);
