-- pingan store, version 23: the office's edits of a report's or a notice's
-- sections before issuing (issue 20). Every save is a new version; the
-- newest of each section is printed (an empty text: the generated words
-- again). Each save is in the ledger too.
CREATE TABLE report_edits (
    year      INTEGER NOT NULL,
    region    TEXT NOT NULL,
    kind      TEXT NOT NULL,
    section   TEXT NOT NULL,
    version   BIGINT NOT NULL,
    text      TEXT NOT NULL,
    edited_by TEXT NOT NULL,
    edited_at TEXT NOT NULL,
    PRIMARY KEY (year, region, kind, section, version)
);
