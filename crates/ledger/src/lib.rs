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

mod adjustments;
mod audit;
mod calls;
mod catalog;
mod checkouts;
mod crypto;
mod dict;
mod error;
mod operators;
mod outbox;
mod payments;
mod receipts;
mod roles;
mod sessions;
mod settlements;
mod shifts;
mod state;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use chrono::NaiveDateTime;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Re-exported so callers pass the same time type.
pub use chrono;

pub use adjustments::Adjustment;
pub use audit::{canonical_json, hmac_sm3, AuditEntry, AuditProblem, AuditReport};
pub use calls::{CallState, CenterCall};
pub use catalog::{CatalogRow, HospItem};
pub use checkouts::CheckoutRecord;
pub use crypto::{KeySecret, LedgerKey};
pub use dict::{Department, Doctor};
pub use error::{AuthError, Error, Result};
pub use operators::{
    hash_new_password, password_problem, Operator, SignIn, LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS,
    MIN_PASSWORD_CHARS,
};
pub use outbox::{OutboxItem, OutboxState};
pub use payments::{NewPayment, PaymentChannel, PaymentRecord};
pub use roles::{Action, AuthSource, Role};
pub use sessions::{Session, SESSION_HOURS};
pub use settlements::{LedgerTotals, SettlementKind, SettlementRecord};
pub use shifts::{ChannelTotal, Shift, ShiftEvent, ShiftEventKind};
pub use state::{CheckoutMode, CheckoutState};

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

pub(crate) fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

pub(crate) fn parse_json(s: String) -> serde_json::Value {
    serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The ledger. Cheap to clone (a connection pool).
#[derive(Clone)]
pub struct Ledger {
    pool: SqlitePool,
    key: LedgerKey,
    path: PathBuf,
    /// What every `Ledger` of this file in this process shares: the file lock that
    /// keeps other processes out, and the checkouts a step is working on now.
    shared: Option<Arc<Shared>>,
}

/// One process owns a ledger file at a time (an OS lock on `<db>.lock`, released
/// when the process ends, however it ends); inside the process, a checkout is
/// worked on by one step at a time ([`Ledger::claim`]). So a recovery or a queue
/// replay never takes over a call that a live step is still waiting on.
struct Shared {
    _lock: std::fs::File,
    claims: Mutex<HashSet<String>>,
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Shared>>> {
    static R: OnceLock<Mutex<HashMap<PathBuf, Weak<Shared>>>> = OnceLock::new();
    R.get_or_init(Default::default)
}

/// The lock file beside a ledger.
pub fn lock_path_for(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

fn acquire_shared(path: &Path) -> Result<Arc<Shared>> {
    // The file may not exist yet: name it by its folder's canonical path.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let canon = dir
        .canonicalize()
        .unwrap_or(dir)
        .join(path.file_name().unwrap_or_default());
    let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = reg.get(&canon).and_then(Weak::upgrade) {
        return Ok(s);
    }
    let lp = lock_path_for(path);
    let io = |source| Error::Io {
        path: lp.clone(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lp)
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            use std::io::Read;
            let _ = f.read_to_string(&mut holder);
            return Err(Error::InUse {
                path: path.to_path_buf(),
                holder: holder.trim().to_string(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    {
        use std::io::{Seek, Write};
        let _ = f.set_len(0);
        let _ = f.seek(std::io::SeekFrom::Start(0));
        let _ = write!(f, "{}", std::process::id());
    }
    let s = Arc::new(Shared {
        _lock: f,
        claims: Mutex::new(HashSet::new()),
    });
    reg.insert(canon, Arc::downgrade(&s));
    Ok(s)
}

/// A checkout being worked on by one step; released when dropped.
pub struct Claim {
    shared: Arc<Shared>,
    id: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.shared
            .claims
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
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
        let shared = acquire_shared(path)?;
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
        quick_check(&pool, path).await?;
        MIGRATOR.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(db) => classify_open_error(path, db),
            other => Error::Migrate(other.to_string()),
        })?;
        widen_roles(&pool).await?;
        let ledger = Ledger {
            pool,
            key: key.clone(),
            path: path.to_path_buf(),
            shared: Some(shared),
        };
        ledger.check_key().await?;
        Ok(ledger)
    }

    /// Open an existing ledger for reading only (`audit verify`, `receipt`, status
    /// screens): a missing or empty file is an error and nothing is created, not even
    /// the WAL's side files when there are none; no migration runs, no lock is taken.
    pub async fn open_read_only(path: &Path, key: &LedgerKey) -> Result<Ledger> {
        let meta = std::fs::metadata(path).map_err(|_| Error::Missing {
            path: path.to_path_buf(),
        })?;
        if !meta.is_file() || meta.len() == 0 {
            return Err(Error::NotSqlite {
                path: path.to_path_buf(),
            });
        }
        check_header(path)?;
        let opts = SqliteConnectOptions::from_str("sqlite://")
            .map_err(Error::Db)?
            .filename(path)
            .read_only(true)
            .create_if_missing(false)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(opts)
            .await
            .map_err(|e| classify_open_error(path, e))?;
        quick_check(&pool, path).await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'key_check'")
                .fetch_optional(&pool)
                .await
                .map_err(|e| classify_open_error(path, e))?;
        match stored {
            Some(v) if v == key.check_value() => {}
            Some(_) => return Err(Error::WrongKey),
            None => {
                return Err(Error::NotSqlite {
                    path: path.to_path_buf(),
                })
            }
        }
        Ok(Ledger {
            pool,
            key: key.clone(),
            path: path.to_path_buf(),
            shared: None,
        })
    }

    /// Claim a checkout for one step. `Err(Busy)` while another step of this process
    /// holds it (another process cannot: it could not open the ledger).
    pub fn claim(&self, checkout_id: &str) -> Result<Claim> {
        let shared = self
            .shared
            .clone()
            .ok_or_else(|| Error::Invalid("the ledger is open read-only".into()))?;
        let mut c = shared.claims.lock().unwrap_or_else(|e| e.into_inner());
        if !c.insert(checkout_id.to_string()) {
            return Err(Error::Busy(checkout_id.to_string()));
        }
        drop(c);
        Ok(Claim {
            shared,
            id: checkout_id.to_string(),
        })
    }

    /// Whether a step of this process is working on the checkout now.
    pub fn is_claimed(&self, checkout_id: &str) -> bool {
        self.shared.as_ref().is_some_and(|s| {
            s.claims
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(checkout_id)
        })
    }

    /// Move everything in the write-ahead log into the main file and empty the log,
    /// so a copy of the main file alone holds every committed fact. Run on clean exit
    /// and periodically.
    pub async fn checkpoint(&self) -> Result<()> {
        if self.shared.is_none() {
            return Ok(());
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checkpoint the log into the main file, then close the pool (waits for
    /// connections to be returned).
    pub async fn close(&self) {
        if let Err(e) = self.checkpoint().await {
            tracing::warn!("checkpoint on close: {e}");
        }
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

    /// A new msgid (docs/domain.md §10): `fixmedins_code` + `yyyyMMddHHmmss` + this
    /// counter's number (2 digits) + a 2-digit sequence. The sequence is persisted, so
    /// msgids never repeat across restarts; the counter number keeps counters of one
    /// institution apart. Refused while the counter has no number.
    pub async fn next_msgid(&self, fixmedins_code: &str, now: NaiveDateTime) -> Result<String> {
        let mut tx = self.write_tx().await?;
        let (counter, seq) = next_seq_in(&mut tx).await?;
        tx.commit().await?;
        Ok(format_msgid(fixmedins_code, now, counter, seq))
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
            self.key(),
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

/// The highest counter number (two digits of the msgid; docs/domain.md §10).
pub const MAX_COUNTER_NO: u8 = 99;

impl Ledger {
    /// This counter's number among the institution's counters (1–99): two digits of
    /// every msgid, so counters sharing an institution code never collide. Assigned by
    /// the hub at enrolment when there is one, configured by IT otherwise.
    pub async fn set_counter_no(&self, n: u8) -> Result<()> {
        if !(1..=MAX_COUNTER_NO).contains(&n) {
            return Err(Error::Invalid(format!(
                "counter number {n}: must be 1–{MAX_COUNTER_NO}"
            )));
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('counter_no', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(n.to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// This counter's number, if it has one.
    pub async fn counter_no(&self) -> Result<Option<u8>> {
        let mut conn = self.pool().acquire().await?;
        counter_no_in(&mut conn).await
    }
}

async fn counter_no_in(conn: &mut sqlx::SqliteConnection) -> Result<Option<u8>> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'counter_no'")
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(n) = v.and_then(|v| v.parse::<u8>().ok()) {
        return Ok(Some(n));
    }
    // Ledgers written before counter numbers had two digits kept a one-digit
    // `terminal_no` (0 was the unset default).
    let old: Option<String> =
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'terminal_no'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(old
        .and_then(|v| v.parse::<u8>().ok())
        .filter(|n| (1..=9).contains(n)))
}

/// `fixmedins_code` (12) + `yyyyMMddHHmmss` (14) + counter (2) + sequence (2) = 30.
pub(crate) fn format_msgid(
    fixmedins_code: &str,
    now: NaiveDateTime,
    counter: u8,
    seq: u32,
) -> String {
    format!(
        "{fixmedins_code}{}{:02}{:02}",
        now.format("%Y%m%d%H%M%S"),
        counter,
        seq % 100
    )
}

/// The counter number written in one of our msgids (None for other shapes).
pub fn counter_of_msgid(msgid: &str) -> Option<u8> {
    if msgid.len() != 30 || !msgid.is_char_boundary(26) {
        return None;
    }
    msgid[26..28].parse().ok()
}

/// The counter's number and the next value of its msgid sequence (0–99, wrapping).
async fn next_seq_in(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<(u8, u32)> {
    let counter = counter_no_in(tx).await?.ok_or(Error::NoCounterNo)?;
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
    Ok((counter, (next % 100) as u32))
}

async fn quick_check(pool: &SqlitePool, path: &Path) -> Result<()> {
    let check: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(pool)
        .await
        .map_err(|e| classify_open_error(path, e))?;
    if check != "ok" {
        return Err(Error::Corrupt {
            path: path.to_path_buf(),
            detail: check,
        });
    }
    Ok(())
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Schema 2, second half: rebuild `operators` with the four roles (SQLite cannot change
/// a CHECK in place). SQLite's own procedure: foreign keys off on one connection, the
/// new table made, filled, swapped in and checked in one transaction, keys back on.
/// Runs once (it recognises the old table by its CHECK); a crash midway leaves the old
/// table, and the next open does it again.
async fn widen_roles(pool: &sqlx::SqlitePool) -> Result<()> {
    let sql: Option<String> = sqlx::query_scalar(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'operators'",
    )
    .fetch_optional(pool)
    .await?;
    if !sql.is_some_and(|s| s.contains("failed_attempts")) {
        return Ok(());
    }
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    let swapped = async {
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        let steps = [
            "CREATE TABLE operators_v2 (
                id            TEXT PRIMARY KEY,
                name_enc      TEXT NOT NULL,
                role          TEXT NOT NULL CHECK (role IN ('cashier', 'supervisor', 'finance', 'admin')),
                password_hash TEXT NOT NULL,
                active        INTEGER NOT NULL DEFAULT 1,
                created_at    TEXT NOT NULL
            )",
            "INSERT INTO operators_v2 (id, name_enc, role, password_hash, active, created_at)
                SELECT id, name_enc, role, password_hash, active, created_at FROM operators",
            "DROP TABLE operators",
            "ALTER TABLE operators_v2 RENAME TO operators",
        ];
        for step in steps {
            if let Err(e) = sqlx::query(step).execute(&mut *conn).await {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                return Err(Error::Migrate(format!("widening the roles: {e}")));
            }
        }
        let broken: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(&mut *conn)
            .await?;
        if !broken.is_empty() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            return Err(Error::Migrate(format!(
                "widening the roles would break {} references",
                broken.len()
            )));
        }
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        Ok(())
    }
    .await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await?;
    swapped
}

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
