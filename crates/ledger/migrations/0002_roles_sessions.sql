-- Schema 2: lock-outs counted per source (the window, the command line, …) so that
-- failures from one place cannot lock an account out everywhere; sessions for the
-- command line (`yibao login`). The operators table is then rebuilt by the ledger
-- (`widen_roles`, outside this transaction because it needs foreign keys off) to
-- allow the finance and admin roles and to drop the per-account failure columns.

CREATE TABLE auth_failures (
    operator_id  TEXT NOT NULL,               -- also ids that do not exist (uniform handling)
    source       TEXT NOT NULL,               -- 'window', 'cli', …
    failed       INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    PRIMARY KEY (operator_id, source)
);
INSERT INTO auth_failures (operator_id, source, failed, locked_until)
    SELECT id, 'window', failed_attempts, locked_until FROM operators
     WHERE failed_attempts > 0 OR locked_until IS NOT NULL;

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,             -- SM3 of the token; the token itself is never stored
    operator_id TEXT NOT NULL REFERENCES operators(id),
    source      TEXT NOT NULL,
    issued_at   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    ended_at    TEXT
);
