-- pingan store, version 2: accounts, sessions, API tokens, login history.

CREATE TABLE users (
    id                  BIGSERIAL PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    password_hash       TEXT NOT NULL,
    roles               TEXT NOT NULL,
    region              TEXT,
    department          TEXT,
    must_change         BOOLEAN NOT NULL,
    failed_logins       BIGINT NOT NULL DEFAULT 0,
    locked_until        TEXT,
    totp_secret         TEXT,
    disabled            BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

-- Sessions live in the database so several server instances share them;
-- only a hash of the cookie value is stored.
CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    client     TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    department  TEXT NOT NULL,
    region      TEXT,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE login_history (
    id       BIGSERIAL PRIMARY KEY,
    username TEXT NOT NULL,
    at       TEXT NOT NULL,
    client   TEXT NOT NULL,
    success  BOOLEAN NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX login_history_user ON login_history (username, at);
