-- Files and images (docs/protocol.md "Files"). `files` holds what a file
-- is (one row per upload; `message` is NULL until a post attaches it, in
-- the writer's transaction); its bytes are in `file_chunks` (or, with
-- --files-dir, in files on disk), written before the row, so a file is
-- served only once all of it is stored. Chunks, not one blob: each chunk
-- is its own short write, so the one SQLite writer lock is never held
-- for a whole 10 MiB file while the message writer waits for it.
-- Deleting a file deletes its row only; the chunks no row names are
-- removed by the sweeper (store::files), out of the writer's way.
CREATE TABLE files (
    id         TEXT PRIMARY KEY,
    room       TEXT NOT NULL,
    uploader   TEXT NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    width      BIGINT,
    height     BIGINT,
    -- The thumbnail's type; NULL: none.
    thumb_type TEXT,
    thumb_size BIGINT,
    message    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX files_message ON files(message);
CREATE INDEX files_room ON files(room);
CREATE INDEX files_uploader ON files(uploader);
CREATE INDEX files_unattached ON files(created_at) WHERE message IS NULL;

-- `part` 0 is the file, 1 its thumbnail; `n` counts chunks from 0.
CREATE TABLE file_chunks (
    file       TEXT NOT NULL,
    part       BIGINT NOT NULL,
    n          BIGINT NOT NULL,
    data       BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (file, part, n)
);
CREATE INDEX file_chunks_created ON file_chunks(created_at);

-- A message's files as JSON ([FileView]), written with the post: reads
-- need no join.
ALTER TABLE messages ADD COLUMN files TEXT;
