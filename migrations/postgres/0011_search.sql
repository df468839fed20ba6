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
-- The planner picks, per query (store::search plans each), between the
-- GIN index (then sorting every match) and walking ids newest first until
-- a page of matches is found. A word missing from the column's statistics
-- is guessed at half the rarest one listed; with the default list a word
-- in 10 of 1,000,000 messages was guessed common enough to walk ids for,
-- reading the whole table (365 ms; benches/search.rs). A ten times longer
-- list makes such words look as rare as they are.
ALTER TABLE messages ALTER COLUMN search SET STATISTICS 1000;
