-- A room's topic: the same as migrations/sqlite.
ALTER TABLE rooms ADD COLUMN topic TEXT;
