-- One-time invitation links (issue 18): each year's links are signed with
-- its own key (HMAC-SHA-256 of year, township and serial), so a link can be
-- printed again at any time and none can be forged; a used link is kept
-- with the answer it brought, so a replay is refused.
CREATE TABLE survey_keys (
    year   INTEGER PRIMARY KEY,
    secret TEXT NOT NULL
);
CREATE TABLE survey_invitations_used (
    year        INTEGER NOT NULL,
    region      TEXT NOT NULL,
    serial      BIGINT NOT NULL,
    instance_id TEXT NOT NULL,
    used_at     TEXT NOT NULL,
    PRIMARY KEY (year, region, serial)
);
-- A channel's stable respondent id (a WeChat openid) is never stored: only
-- its HMAC under the year's key, to refuse a second answer from the same
-- person (个人信息保护法: minimum necessary).
CREATE TABLE survey_respondents (
    year        INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    PRIMARY KEY (year, digest)
);
-- The export pages through a form's answers in arrival order.
CREATE INDEX survey_responses_ord ON survey_responses (form, ord);
