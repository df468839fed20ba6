-- The read position's post number beside it: the same as
-- migrations/sqlite, with BIGINT and the PL/pgSQL trigger. Within a room
-- `n` grows with `id`, so the newest post of a batch has both maxima.
ALTER TABLE members ADD COLUMN read_n BIGINT;

UPDATE members SET read_n = (SELECT n FROM messages
  WHERE room = members.room AND id <= members.read_id ORDER BY id DESC LIMIT 1);

CREATE OR REPLACE FUNCTION messages_read_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE members m SET read_id = p.id, read_n = p.n
    FROM (SELECT room, user_id, MAX(id) AS id, MAX(n) AS n FROM posted GROUP BY room, user_id) AS p
   WHERE m.room = p.room AND m.user_id = p.user_id AND m.read_id < p.id;
  RETURN NULL;
END $$;
