-- A year's sampling plan (issue 17): the parameters of survey.md §2, the
-- targets and invitations follow from them and the year's frame.
CREATE TABLE survey_plans (
    year          INTEGER PRIMARY KEY,
    size          BIGINT NOT NULL,
    allocation    TEXT NOT NULL,
    min_per       BIGINT NOT NULL,
    response_rate TEXT NOT NULL,
    made_by       TEXT NOT NULL,
    made_at       TEXT NOT NULL
);
-- The survey pages keep their estimates until a survey write: found by
-- the newest ledger entry of a survey action.
CREATE INDEX audit_action ON audit (action, id);
