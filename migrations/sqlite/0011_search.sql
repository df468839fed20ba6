-- Full-text search (docs/protocol.md §4 "Search"): an FTS5 index over
-- `messages.body` with the messages as its external content (the text is
-- stored once), folding case and diacritics (`remove_diacritics 2` also
-- folds the ones the older mode 1 misses). Triggers keep it in step with
-- every write in the statement that makes it, so in the same transaction:
-- the writer's one-statement append, edits (UPDATE OF body), deletions
-- (the tombstone's body is '', which indexes nothing) and a room's
-- deletion. An external-content index must be told the old text to remove
-- it ('delete' with the old values), hence OLD.body in the triggers.
-- `columnsize = 0`: no row of token counts per message, which only bm25
-- ranking reads (search orders by id): the trigger's cost on a 64-row
-- append fell from +77..105% to +50% of a bare insert (Python's sqlite3
-- 3.40, 8-word messages, the machine busy compiling: ~15 us a row).
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    columnsize = 0
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
  INSERT INTO messages_fts (rowid, body) VALUES (NEW.id, NEW.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', OLD.id, OLD.body);
END;
