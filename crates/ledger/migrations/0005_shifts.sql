-- Schema 5: shifts (交班). A cashier opens a shift with a float; cash put in or taken
-- out, and each handover to the next cashier, are events of it; it is closed with a
-- blind count. One shift is open at a time on a counter.

CREATE TABLE shifts (
    id          TEXT PRIMARY KEY,
    opened_by   TEXT NOT NULL,
    opened_at   TEXT NOT NULL,
    float_fen   INTEGER NOT NULL,
    on_duty     TEXT NOT NULL,              -- the cashier at the counter now
    closed_by   TEXT,
    closed_at   TEXT,
    counted_fen INTEGER,
    report_json TEXT
);
CREATE UNIQUE INDEX shifts_one_open ON shifts(ifnull(closed_at, 'open')) WHERE closed_at IS NULL;

CREATE TABLE shift_events (
    id       INTEGER PRIMARY KEY,
    shift_id TEXT NOT NULL REFERENCES shifts(id),
    kind     TEXT NOT NULL CHECK (kind IN ('cash_in', 'cash_out', 'handover')),
    amount   INTEGER NOT NULL,              -- cash in/out; for a handover the outgoing count
    note     TEXT NOT NULL,
    by_op    TEXT NOT NULL,
    to_op    TEXT,
    at       TEXT NOT NULL
);
