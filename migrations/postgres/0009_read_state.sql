-- Your rooms and how far you read them: the same as migrations/sqlite, with
-- BIGINT and a PL/pgSQL trigger.
ALTER TABLE members ADD COLUMN read_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN n BIGINT NOT NULL DEFAULT 0;

UPDATE messages SET n = o.n
  FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY room ORDER BY id) AS n FROM messages) AS o
  WHERE messages.id = o.id;

INSERT INTO members (room, user_id) SELECT name, owner FROM rooms WHERE true
  ON CONFLICT DO NOTHING;
INSERT INTO members (room, user_id)
  SELECT DISTINCT m.room, m.user_id FROM messages m JOIN rooms r ON r.name = m.room
  WHERE r.visibility = 'public'
    AND NOT EXISTS (SELECT 1 FROM bans b WHERE b.room = m.room AND b.user_id = m.user_id)
  ON CONFLICT DO NOTHING;
UPDATE members SET read_id = COALESCE((SELECT MAX(id) FROM messages WHERE room = members.room), 0);

-- Mentions (`@name`): the user ids on the message as JSON (NULL: none),
-- for every read of it; and a row each, for the unread mention counts.
ALTER TABLE messages ADD COLUMN mentions TEXT;
CREATE TABLE mentions (
    user_id TEXT NOT NULL,
    room    TEXT NOT NULL,
    message BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, room, message)
);
CREATE INDEX mentions_message ON mentions(message);

CREATE INDEX messages_deleted ON messages(room, id) WHERE deleted_ts IS NOT NULL;

-- One UPDATE per INSERT statement (the writer inserts a batch in one), from
-- its transition table.
CREATE FUNCTION messages_read_own() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE members m SET read_id = p.id
    FROM (SELECT room, user_id, MAX(id) AS id FROM posted GROUP BY room, user_id) AS p
   WHERE m.room = p.room AND m.user_id = p.user_id AND m.read_id < p.id;
  RETURN NULL;
END $$;
CREATE TRIGGER messages_read_own AFTER INSERT ON messages
  REFERENCING NEW TABLE AS posted
  FOR EACH STATEMENT EXECUTE FUNCTION messages_read_own();
