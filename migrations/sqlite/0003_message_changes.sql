-- Edits, deletions, replies and reactions, and the room's change stream.
-- `seq` is the message's position in its room's stream: its id when it is
-- posted, then the next value of the same counter at each change (edit,
-- delete, react, unreact), so `join {since}` finds every message created or
-- changed after a position. On SQLite the counter is max(MAX(id), stream.last):
-- posts are counted by their ids, changes by `stream.last`, so a second
-- process (the admin CLI) that changes a message draws the next value too.
ALTER TABLE messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE messages SET seq = id;
ALTER TABLE messages ADD COLUMN edited INTEGER;
ALTER TABLE messages ADD COLUMN deleted_by TEXT;
ALTER TABLE messages ADD COLUMN deleted_ts INTEGER;
ALTER TABLE messages ADD COLUMN reply_to INTEGER;
-- The reactions summary as JSON ([{emoji, count, users}]), rewritten by each
-- react and unreact from the rows of `reactions`: reads need no join.
ALTER TABLE messages ADD COLUMN reactions TEXT;
CREATE INDEX messages_room_seq ON messages(room, seq);

-- One reaction per user, emoji and message; `pos` is the stream position it
-- was added at, which orders users and emoji by first reaction.
CREATE TABLE reactions (
    message INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji   TEXT NOT NULL,
    user_id TEXT NOT NULL,
    pos     INTEGER NOT NULL,
    PRIMARY KEY (message, emoji, user_id)
);

CREATE TABLE stream (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO stream (id, last) VALUES (1, 0);
