-- A room's topic (docs/protocol.md §4 "Room topic, members, deletion"):
-- NULL when it has none. At most 250 characters, checked by the server
-- (`domain::Topic`), not here: a rule that changes needs no migration.
-- The member list reads `members` by its primary key (room, user_id), so
-- it needs no index of its own. The same text as migrations/postgres.
ALTER TABLE rooms ADD COLUMN topic TEXT;
