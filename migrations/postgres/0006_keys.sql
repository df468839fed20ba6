-- Users of the app (JWT subjects), known from their first connect so that
-- `roomcast user disable --app SUB` can refuse them (docs/protocol.md §2),
-- and the API keys of bots and backends (`roomcast key`), stored as the
-- SHA-256 of the key. Flags are 0 or 1, like `users.disabled`. The
-- PostgreSQL flavour of migrations/sqlite (BIGINT where SQLite has INTEGER).
CREATE TABLE app_users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    disabled   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    name       TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    -- The user the key acts as: `bot:NAME`, or the `--as-user` id.
    user_id    TEXT NOT NULL,
    -- Comma-separated room names it is limited to; '' for every room.
    rooms      TEXT NOT NULL,
    server     BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_used  BIGINT
);
