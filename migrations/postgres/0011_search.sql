-- Full-text search (docs/protocol.md §4 "Search"): a stored generated
-- tsvector of `messages.body` with the `simple` configuration (lowercase,
-- no stemming, no stop words: every language is searched alike), and a
-- GIN index on it. Generated, so every write (the writer's append, edits,
-- deletions whose tombstone body is '') updates it in its own statement,
-- in the same transaction. Unlike SQLite's index it folds case but not
-- diacritics: `unaccent` is neither built in nor immutable.
-- Adding the column rewrites the table once, at this migration.
ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX messages_search ON messages USING GIN (search);
