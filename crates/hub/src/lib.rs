//! The institution's hub (`yibao hub`): the store every counter's ledger is pushed to,
//! on PostgreSQL. It never sits in a checkout's path — a counter settles, pays and
//! prints while the hub is down, and pushes later.
//!
//! **Facts.** A counter's facts are its audit log's entries (every settlement, payment,
//! refund, adjustment, receipt, sign-in …, each with its SM3-chained hash), keyed by
//! (counter, seq). The hub takes them in order: a fact already held with the same hash
//! is acknowledged again (a resend after a failure doubles nothing); one with another
//! hash, one that leaves a gap, or one whose `prev_hash` is not the hash of the fact
//! before it, rewrites history and is refused. The answer is the counter's high-water
//! mark, from which the next push starts.
//!
//! **Counters** are enrolled by the hub's administrator and authenticate with the key
//! the enrolment prints (`<counter>.<secret>`; the hub keeps only its SM3).
//!
//! The SQL is plain (TEXT, BIGINT, TIMESTAMP, no vendor JSON operators) so that
//! PostgreSQL-compatible 信创 databases can serve it (ARCHITECTURE.md).
pub mod client;
pub mod report;
mod server;
pub mod settlements;
pub mod shared;

pub use server::{router, serve, HubOptions};

/// One pushed fact: an audit entry of a counter.
pub type Fact = ledger::AuditEntry;
