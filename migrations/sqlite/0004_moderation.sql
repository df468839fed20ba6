-- Room moderation (docs/protocol.md §4 "Moderation"): moderators per room,
-- mutes with their end, bans, and a per-room slow mode. Times are unix ms.
-- The same tables as migrations/postgres, with INTEGER for integers.
CREATE TABLE moderators (
    room    TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    by_user TEXT NOT NULL,
    PRIMARY KEY (room, user_id)
);

-- A mute whose `until` has passed no longer applies; it stays until replaced or lifted.
CREATE TABLE mutes (
    room    TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    until   INTEGER NOT NULL,
    by_user TEXT NOT NULL,
    PRIMARY KEY (room, user_id)
);

CREATE TABLE bans (
    room    TEXT NOT NULL REFERENCES rooms(name) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    by_user TEXT NOT NULL,
    ts      INTEGER NOT NULL,
    PRIMARY KEY (room, user_id)
);

-- At most one message per `slow_mode` seconds per user; 0 is off.
ALTER TABLE rooms ADD COLUMN slow_mode INTEGER NOT NULL DEFAULT 0;

-- Slow mode reads a user's latest message in a room.
CREATE INDEX messages_room_user_ts ON messages(room, user_id, ts);
