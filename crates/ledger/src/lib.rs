//! The counter's ledger: one SQLite database (through sqlx) holding the cashier
//! accounts, sign-ins, checkouts and their fee lines, every call to the center
//! (its msgid written before it is sent), settlements, payments by channel,
//! the offline queue (outbox), receipts and a hash-chained audit log.
//!
//! * WAL journal, `foreign_keys=ON`, `synchronous=FULL` (money), migrations
//!   embedded with `sqlx::migrate!`.
//! * Personal data (names, certificate numbers, the resolved person) is
//!   encrypted at rest with SM4-CBC under a key kept outside the database
//!   ([`LedgerKey`], a 0600 key file).
//! * A file that is not an SQLite database, or a damaged one, gives a clear
//!   error and is never overwritten.
//! * Time is passed in by the caller (`now: NaiveDateTime`, the counter's local time).
//!
//! Invariant: a call to the center is recorded ([`Ledger::begin_call`]) before it is sent.

mod audit;
mod calls;
mod checkouts;
mod crypto;
mod error;
mod operators;
mod outbox;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::NaiveDateTime;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Re-exported so callers pass the same time type.
pub use chrono;

pub use audit::{AuditEntry, AuditProblem, AuditReport};
pub use calls::{CallState, CenterCall};
pub use checkouts::{
    Adjustment, CheckoutRecord, FeeLineRecord, LedgerTotals, NewPayment, PaymentChannel,
    PaymentRecord, SettlementKind, SettlementRecord,
};
pub use crypto::LedgerKey;
pub use error::{AuthError, Error, Result};
pub use operators::{Operator, Role, SignIn, LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS};
pub use outbox::{OutboxItem, OutboxState};

/// Text form of times in the ledger (sorts like the time itself).
pub(crate) const TIME_FMT: &str = "%Y-%m-%d %H:%M:%S%.3f";

pub(crate) fn fmt_time(t: NaiveDateTime) -> String {
    t.format(TIME_FMT).to_string()
}

pub(crate) fn parse_time(s: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, TIME_FMT)
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .map_err(|_| Error::Invalid(format!("bad time in ledger: {s:?}")))
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The ledger. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Ledger {
    pool: SqlitePool,
    key: LedgerKey,
    path: PathBuf,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

impl Ledger {
    /// Open (creating and migrating if needed) the ledger at `path`.
    ///
    /// An existing file that is not an SQLite database gives [`Error::NotSqlite`]
    /// and is left untouched; a key that does not match the one the ledger was
    /// created with gives [`Error::WrongKey`].
    pub async fn open(path: &Path, key: &LedgerKey) -> Result<Ledger> {
        let exists = path.exists();
        if exists {
            check_header(path)?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(Error::Db)?
            .filename(path)
            .create_if_missing(!exists)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await
            .map_err(|e| classify_open_error(path, e))?;
        // A damaged file can pass the header check: ask SQLite.
        let check: String = sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&pool)
            .await
            .map_err(|e| classify_open_error(path, e))?;
        if check != "ok" {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                detail: check,
            });
        }
        MIGRATOR.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(db) => classify_open_error(path, db),
            other => Error::Migrate(other.to_string()),
        })?;
        let ledger = Ledger {
            pool,
            key: key.clone(),
            path: path.to_path_buf(),
        };
        ledger.check_key().await?;
        Ok(ledger)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Close the pool (waits for connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn key(&self) -> &LedgerKey {
        &self.key
    }

    /// A write transaction that takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so concurrent processes queue on the busy timeout instead of failing an upgrade.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// The key check value: the first ledger opened with a key records it; later
    /// opens must present the same key.
    async fn check_key(&self) -> Result<()> {
        let kcv = self.key.check_value();
        let mut tx = self.write_tx().await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'key_check'")
                .fetch_optional(&mut *tx)
                .await?;
        match stored {
            Some(v) if v == kcv => {}
            Some(_) => return Err(Error::WrongKey),
            None => {
                sqlx::query("INSERT INTO meta (key, value) VALUES ('key_check', ?)")
                    .bind(&kcv)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// A new msgid (`fixmedins_code` + `yyyyMMddHHmmss` + 4-digit sequence).
    /// The sequence is persisted, so msgids never repeat across restarts or
    /// between processes sharing the ledger (fewer than 10 000 per second).
    pub async fn next_msgid(&self, fixmedins_code: &str, now: NaiveDateTime) -> Result<String> {
        let mut tx = self.write_tx().await?;
        let seq = next_seq_in(&mut tx).await?;
        tx.commit().await?;
        Ok(format_msgid(fixmedins_code, now, seq))
    }

    /// Reserve and return the next value of the msgid sequence (0..=9999, wrapping).
    pub async fn next_msgid_seq(&self) -> Result<u32> {
        let mut tx = self.write_tx().await?;
        let seq = next_seq_in(&mut tx).await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// A value from the small key/value table (settings such as the offline mode).
    pub async fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(format!("setting.{key}"))
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Store a setting (audited).
    pub async fn set_setting(
        &self,
        actor: &str,
        key: &str,
        value: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("setting.{key}"))
        .bind(value)
        .execute(&mut *tx)
        .await?;
        audit::append_in(
            &mut tx,
            actor,
            "setting.set",
            &serde_json::json!({"key": key, "value": value}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Ledger {
    /// This counter's terminal number (0–9): the first digit of every msgid's
    /// sequence, so counters sharing an institution code never collide.
    pub async fn set_terminal_no(&self, n: u8) -> Result<()> {
        if n > 9 {
            return Err(Error::Invalid(format!("terminal number {n} (0–9)")));
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('terminal_no', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(n.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    pub async fn terminal_no(&self) -> Result<u8> {
        let v: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'terminal_no'")
                .fetch_optional(self.pool())
                .await?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }
}

pub(crate) fn format_msgid(fixmedins_code: &str, now: NaiveDateTime, seq: u32) -> String {
    format!(
        "{fixmedins_code}{}{:04}",
        now.format("%Y%m%d%H%M%S"),
        seq % 10_000
    )
}

async fn next_seq_in(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<u32> {
    let cur: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'msgid_seq'")
        .fetch_optional(&mut **tx)
        .await?;
    let cur: u64 = cur.and_then(|v| v.parse().ok()).unwrap_or(0);
    let next = cur + 1;
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('msgid_seq', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .bind(next.to_string())
    .execute(&mut **tx)
    .await?;
    // Counters of one institution share the msgid space: the terminal number
    // (0–9, set per counter) is the first digit of the 4-digit sequence.
    let terminal: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'terminal_no'")
            .fetch_optional(&mut **tx)
            .await?;
    let terminal: u64 = terminal.and_then(|v| v.parse().ok()).unwrap_or(0).min(9);
    Ok((terminal * 1000 + next % 1000) as u32)
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

fn check_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if !meta.is_file() {
        return Err(Error::NotSqlite {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        // An empty file is what SQLite itself creates; it is a valid empty database.
        return Ok(());
    }
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let n = f.read(&mut head).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if n < 16 || &head != SQLITE_MAGIC {
        return Err(Error::NotSqlite {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

fn classify_open_error(path: &Path, e: sqlx::Error) -> Error {
    let msg = e.to_string();
    if msg.contains("not a database") {
        Error::NotSqlite {
            path: path.to_path_buf(),
        }
    } else if msg.contains("malformed") || msg.contains("corrupt") {
        Error::Corrupt {
            path: path.to_path_buf(),
            detail: msg,
        }
    } else {
        Error::Db(e)
    }
}
