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
