//! The counter's SQLite ledger: migrations, checkouts, center calls, payments, outbox, shifts, accounts, hash-chained audit log.
