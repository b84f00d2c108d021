-- pingan store, version 12: which region and period each write changed,
-- under the ledger entry that wrote them. A server keeps the values of a
-- year in memory for previews and re-reads only what changed since (a
-- full re-read of the province takes seconds). Transient (not in backups:
-- a restored database is read whole on first use).
CREATE TABLE value_changes (
    seq    BIGINT NOT NULL,
    region TEXT NOT NULL,
    period TEXT NOT NULL,
    year   INTEGER NOT NULL,
    PRIMARY KEY (seq, region, period)
);
