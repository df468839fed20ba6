-- Built-in accounts that may log into the Socket.IO Admin UI at /admin/
-- (docs/protocol.md §4b): `roomcast user add --admin`, `user promote` and
-- `user demote` set it. 0 or 1, like `disabled`.
ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
