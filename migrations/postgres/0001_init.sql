-- roomcast schema, PostgreSQL flavour: the same tables and columns as
-- migrations/sqlite, with BIGINT where SQLite has INTEGER (so both backends
-- decode the same Rust types). Times are unix milliseconds.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE rooms (
    name       TEXT PRIMARY KEY,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    owner      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    room    TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    PRIMARY KEY (room, user_id)
);
CREATE INDEX members_user ON members(user_id);

-- Several nodes write: PostgreSQL hands out the ids. Each writer draws them
-- while it holds its rooms' advisory locks (store/postgres.rs), so they
-- increase within every room in commit and delivery order.
CREATE SEQUENCE message_ids;
CREATE TABLE messages (
    id        BIGINT PRIMARY KEY DEFAULT nextval('message_ids'),
    room      TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    user_name TEXT NOT NULL,
    body      TEXT NOT NULL,
    ts        BIGINT NOT NULL
);
CREATE INDEX messages_room_id ON messages(room, id);
