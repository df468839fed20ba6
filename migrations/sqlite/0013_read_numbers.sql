-- The read position's post number beside it (docs/protocol.md §4 "Your
-- rooms and read state"): `read_n` is `messages.n` of the newest post at or
-- before `read_id`, NULL when there is none (the list then counts from the
-- room's first post). A room's unread count is then its newest live
-- post's `n` minus `read_n` minus the deletions between, read where the
-- list already looks: without it, the list looked up the post number at
-- the read position, the room's first and its newest for every room, and
-- PostgreSQL took 74 ms (p50) to list 1,000 rooms of 10,000 messages
-- (bench/README.md). Written where `read_id` is: joining or being invited
-- (the newest post's `n`), `read`, and one's own post (the trigger below,
-- in the statement that stores it). The same text as migrations/postgres
-- but for the trigger.
ALTER TABLE members ADD COLUMN read_n INTEGER;

UPDATE members SET read_n = (SELECT n FROM messages
  WHERE room = members.room AND id <= members.read_id ORDER BY id DESC LIMIT 1);

DROP TRIGGER messages_read_own;
CREATE TRIGGER messages_read_own AFTER INSERT ON messages BEGIN
  UPDATE members SET read_id = NEW.id, read_n = NEW.n
   WHERE room = NEW.room AND user_id = NEW.user_id AND read_id < NEW.id;
END;
