-- roomcast schema, SQLite flavour. Times are unix milliseconds.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE rooms (
    name       TEXT PRIMARY KEY,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    owner      TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE members (
    room    TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    PRIMARY KEY (room, user_id)
);
CREATE INDEX members_user ON members(user_id);

-- Ids are assigned by the single group-commit writer, in commit order, so
-- they increase within every room.
CREATE TABLE messages (
    id        INTEGER PRIMARY KEY,
    room      TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    user_name TEXT NOT NULL,
    body      TEXT NOT NULL,
    ts        INTEGER NOT NULL
);
CREATE INDEX messages_room_id ON messages(room, id);
