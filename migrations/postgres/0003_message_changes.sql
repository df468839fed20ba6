-- Edits, deletions, replies and reactions, and the room's change stream.
-- `seq` is the message's position in its room's stream: its id when it is
-- posted, then the next value of the same sequence (`message_ids`) at each
-- change (edit, delete, react, unreact), drawn under the room's advisory
-- lock, so `join {since}` finds every message created or changed after a
-- position, in the order every node delivered them.
ALTER TABLE messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
UPDATE messages SET seq = id;
ALTER TABLE messages ADD COLUMN edited BIGINT;
ALTER TABLE messages ADD COLUMN deleted_by TEXT;
ALTER TABLE messages ADD COLUMN deleted_ts BIGINT;
ALTER TABLE messages ADD COLUMN reply_to BIGINT;
-- The reactions summary as JSON ([{emoji, count, users}]), rewritten by each
-- react and unreact from the rows of `reactions`: reads need no join.
ALTER TABLE messages ADD COLUMN reactions TEXT;
CREATE INDEX messages_room_seq ON messages(room, seq);

-- One reaction per user, emoji and message; `pos` is the stream position it
-- was added at, which orders users and emoji by first reaction.
CREATE TABLE reactions (
    message BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    emoji   TEXT NOT NULL,
    user_id TEXT NOT NULL,
    pos     BIGINT NOT NULL,
    PRIMARY KEY (message, emoji, user_id)
);
