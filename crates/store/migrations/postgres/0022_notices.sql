-- pingan store, version 22: 问题整改通知书 (issue 20). One notice per region
-- and year, numbered in the year's sequence (平安测评〔2024〕12号) when it is
-- first issued; its dates are kept so the same notice can be made again.
-- Issue 21's rectification records start from these rows.
CREATE TABLE notices (
    year      INTEGER NOT NULL,
    region    TEXT NOT NULL,
    number    BIGINT NOT NULL,
    issued_on TEXT NOT NULL,
    plan_due  TEXT NOT NULL,
    deadline  TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    PRIMARY KEY (year, region),
    UNIQUE (year, number)
);
