-- Built-in accounts move to their own namespace of user ids, `acct:NAME`, so
-- that registering a username can never make anyone the user an app's JWT
-- names with the same `sub` (docs/protocol.md §2). Everything stored under an
-- account's old id (sessions, owned rooms, invitations, messages) moves with
-- it. Before this migration the two could not be told apart: what a JWT user
-- with the same id did is the account's from now on, as it was in effect.
-- The same text serves migrations/postgres.
CREATE TABLE account_ids AS
    SELECT id AS old, 'acct:' || id AS new FROM users WHERE id NOT LIKE 'acct:%';

INSERT INTO users (id, name, password_hash, disabled, created_at)
    SELECT a.new, u.name, u.password_hash, u.disabled, u.created_at
    FROM users u JOIN account_ids a ON a.old = u.id;

UPDATE sessions SET user_id = (SELECT new FROM account_ids WHERE old = sessions.user_id)
    WHERE user_id IN (SELECT old FROM account_ids);
UPDATE rooms SET owner = (SELECT new FROM account_ids WHERE old = rooms.owner)
    WHERE owner IN (SELECT old FROM account_ids);
UPDATE members SET user_id = (SELECT new FROM account_ids WHERE old = members.user_id)
    WHERE user_id IN (SELECT old FROM account_ids);
UPDATE messages SET user_id = (SELECT new FROM account_ids WHERE old = messages.user_id)
    WHERE user_id IN (SELECT old FROM account_ids);

DELETE FROM users WHERE id IN (SELECT old FROM account_ids);
DROP TABLE account_ids;
