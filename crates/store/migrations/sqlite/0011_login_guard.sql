-- pingan store, version 11: failed sign-ins under names that have no
-- account, counted and locked like an account's, so that a lockout does
-- not tell which names exist. Transient (not in backups, like sessions).
CREATE TABLE login_guard (
    username TEXT PRIMARY KEY,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT
);
