-- Yibao Counter ledger, schema 1.
-- Money columns are INTEGER fen. Times are local counter time text 'YYYY-MM-DD HH:MM:SS.fff'.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE operators (
    id              TEXT PRIMARY KEY,
    name_enc        TEXT NOT NULL,              -- SM4, personal data
    role            TEXT NOT NULL CHECK (role IN ('cashier', 'supervisor')),
    password_hash   TEXT NOT NULL,              -- argon2id PHC string, never plain
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);

CREATE TABLE sign_ins (
    id            INTEGER PRIMARY KEY,
    operator_id   TEXT NOT NULL REFERENCES operators(id),
    day           TEXT NOT NULL,                -- YYYY-MM-DD
    sign_no       TEXT NOT NULL,
    sign_time     TEXT NOT NULL,
    signed_out_at TEXT,
    UNIQUE (operator_id, day)
);

CREATE TABLE checkouts (
    id          TEXT PRIMARY KEY,               -- client-made (uuid)
    operator_id TEXT NOT NULL REFERENCES operators(id),
    state       TEXT NOT NULL,
    mode        TEXT NOT NULL DEFAULT 'online', -- online | offline_selfpay | offline_estimate
    psn_no      TEXT,
    insutype    TEXT,
    mdtrt_id    TEXT,
    ipt_otp_no  TEXT,
    chrg_bchno  TEXT,
    setl_id     TEXT,
    parent_id   TEXT REFERENCES checkouts(id),  -- partial refund: the re-settlement's origin
    ctx_json    TEXT NOT NULL DEFAULT '{}',     -- non-personal step data (split, reasons, …)
    person_enc  TEXT,                           -- SM4, the resolved person (name, certno, …)
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX checkouts_state ON checkouts(state);

CREATE TABLE fee_lines (
    checkout_id         TEXT NOT NULL REFERENCES checkouts(id) ON DELETE CASCADE,
    seq                 INTEGER NOT NULL,
    feedetl_sn          TEXT NOT NULL,
    line_json           TEXT NOT NULL,          -- billing::BillLine
    det_item_fee_sumamt INTEGER NOT NULL,
    split_json          TEXT,                   -- the center's 2204 line result
    PRIMARY KEY (checkout_id, seq)
);

CREATE TABLE center_calls (
    msgid         TEXT PRIMARY KEY,
    checkout_id   TEXT REFERENCES checkouts(id),
    outbox_id     TEXT,
    infno         TEXT NOT NULL,
    omsgid        TEXT,                         -- 2601: the call it reverses
    request_json  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'ok', 'failed', 'in_doubt', 'reversed')),
    response_json TEXT,
    error_code    TEXT,
    error_msg     TEXT,
    resolution    TEXT,                         -- how an in-doubt call ended
    created_at    TEXT NOT NULL,
    finished_at   TEXT
);
CREATE INDEX center_calls_state ON center_calls(state, infno);
CREATE INDEX center_calls_checkout ON center_calls(checkout_id);

CREATE TABLE settlements (
    setl_id         TEXT PRIMARY KEY,
    checkout_id     TEXT NOT NULL REFERENCES checkouts(id),
    msgid           TEXT NOT NULL REFERENCES center_calls(msgid),
    kind            TEXT NOT NULL CHECK (kind IN ('settle', 'cancel')),
    orig_setl_id    TEXT,                       -- cancel: the settlement it cancels
    psn_no          TEXT NOT NULL,
    mdtrt_id        TEXT NOT NULL,
    insutype        TEXT,
    clr_type        TEXT,
    clr_optins      TEXT,
    clr_way         TEXT,
    medfee_sumamt   INTEGER NOT NULL,
    fund_pay_sumamt INTEGER NOT NULL,
    acct_pay        INTEGER NOT NULL,
    acct_mulaid_pay INTEGER NOT NULL,
    psn_cash_pay    INTEGER NOT NULL,
    hosp_part_amt   INTEGER NOT NULL,
    balc            INTEGER,
    setl_time       TEXT,
    cancelled_by    TEXT,                       -- settle: the cancel's setl_id once refunded
    response_json   TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX settlements_checkout ON settlements(checkout_id);

CREATE TABLE payments (
    id          INTEGER PRIMARY KEY,
    checkout_id TEXT NOT NULL REFERENCES checkouts(id),
    setl_id     TEXT,
    channel     TEXT NOT NULL CHECK (channel IN ('fund', 'account', 'mutual_aid', 'hospital', 'cash', 'card')),
    amount      INTEGER NOT NULL,               -- negative = money returned
    given       INTEGER,                        -- cash handed over
    change      INTEGER,                        -- cash given back
    reference   TEXT,                           -- card terminal reference
    note        TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX payments_checkout ON payments(checkout_id);

CREATE TABLE adjustments (
    id          INTEGER PRIMARY KEY,
    checkout_id TEXT NOT NULL REFERENCES checkouts(id),
    amount      INTEGER NOT NULL,               -- > 0 patient owes, < 0 refund to patient
    reason      TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    created_at  TEXT NOT NULL,
    resolved_at TEXT
);

CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,  -- replay order
    id              TEXT NOT NULL UNIQUE,               -- client-made id, written before the first send
    kind            TEXT NOT NULL,
    checkout_id     TEXT REFERENCES checkouts(id),
    payload_json    TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    result_json     TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE outbox_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE receipts (
    key          TEXT PRIMARY KEY,              -- setl_id, or the checkout id of a self-pay checkout
    checkout_id  TEXT NOT NULL REFERENCES checkouts(id),
    kind         TEXT NOT NULL,                 -- settlement | refund | selfpay
    data_json    TEXT NOT NULL,
    print_status TEXT NOT NULL DEFAULT 'pending',
    created_at   TEXT NOT NULL
);

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    time        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail_json TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
