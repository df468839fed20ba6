-- Built-in accounts that may log into the Socket.IO Admin UI at /admin/
-- (docs/protocol.md §4b): `roomcast user add --admin`, `user promote` and
-- `user demote` set it. 0 or 1, like `disabled` (BIGINT, as SQLite's INTEGER).
ALTER TABLE users ADD COLUMN admin BIGINT NOT NULL DEFAULT 0;
