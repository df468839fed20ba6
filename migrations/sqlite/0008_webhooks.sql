-- Webhooks (docs/protocol.md "Webhooks"): the endpoints, from the settings
-- file (origin 'file', rewritten at each start) or the admin CLI ('cli'),
-- and the transactional outbox. An event is written by the transaction of
-- the change that causes it, one row per endpoint that wants its type, and
-- deleted once the endpoint answered 2xx; after the last attempt it stays
-- as 'failed' until `roomcast webhooks retry`. Times are unix ms.
-- `events` is '' for every type, else ',a,b,' (matched with LIKE).
-- `lease_node`/`lease_until`: the node sending to the endpoint now; another
-- takes over once the lease ran out (a node's death hands its work on).
-- The same tables as migrations/postgres, with INTEGER for integers.
CREATE TABLE webhook_endpoints (
    name          TEXT PRIMARY KEY,
    url           TEXT NOT NULL,
    secret        TEXT NOT NULL,
    events        TEXT NOT NULL DEFAULT '',
    allow_private INTEGER NOT NULL DEFAULT 0,
    origin        TEXT NOT NULL CHECK (origin IN ('file', 'cli')),
    lease_node    TEXT,
    lease_until   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE webhook_outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint   TEXT NOT NULL REFERENCES webhook_endpoints (name) ON DELETE CASCADE,
    event_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    data       TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_at    INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'failed')),
    last_error TEXT
);

CREATE INDEX webhook_outbox_queue ON webhook_outbox (endpoint, state, id);
