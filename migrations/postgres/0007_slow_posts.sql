-- Slow mode reads when a user last posted to a room from a row of its own,
-- which the writer keeps only for posts that slow mode holds, instead of
-- from an index over every message: that index cost every message an extra
-- index insert (docs/protocol.md §4 "Moderation"). Times are unix ms.
-- The same table as migrations/sqlite, with BIGINT for integers.
DROP INDEX messages_room_user_ts;

CREATE TABLE slow_posts (
    room    TEXT NOT NULL,
    user_id TEXT NOT NULL,
    ts      BIGINT NOT NULL,
    PRIMARY KEY (room, user_id)
);
