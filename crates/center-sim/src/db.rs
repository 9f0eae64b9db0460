//! The simulator's own SQLite database.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::persons::DEMO;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS persons (
  psn_no TEXT PRIMARY KEY, name TEXT NOT NULL, certno TEXT NOT NULL, gend TEXT, brdy TEXT,
  insutype TEXT NOT NULL, psn_type TEXT, insu_stas TEXT NOT NULL, insuplc_admdvs TEXT NOT NULL,
  balc INTEGER NOT NULL, retired INTEGER NOT NULL, activated INTEGER NOT NULL, acct_owner TEXT,
  chronic_code TEXT, chronic_name TEXT, emp_name TEXT, secret TEXT NOT NULL,
  scenario TEXT NOT NULL, scenario_zh TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS usage (psn_no TEXT NOT NULL, year INTEGER NOT NULL,
  dedc_used INTEGER NOT NULL DEFAULT 0, fund_used INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (psn_no, year));
CREATE TABLE IF NOT EXISTS tokens (ec_token TEXT PRIMARY KEY, psn_no TEXT NOT NULL, qr TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS used_qr (qr TEXT PRIMARY KEY, setl_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sign_ins (sign_no TEXT PRIMARY KEY, opter TEXT, fixmedins_code TEXT, sign_time TEXT, sign_out_time TEXT);
CREATE TABLE IF NOT EXISTS visits (mdtrt_id TEXT PRIMARY KEY, psn_no TEXT NOT NULL, insutype TEXT NOT NULL,
  med_type TEXT NOT NULL, ipt_otp_no TEXT, dise_codg TEXT, begntime TEXT, fixmedins_code TEXT,
  cancelled INTEGER NOT NULL DEFAULT 0, ec_token TEXT);
CREATE TABLE IF NOT EXISTS fee_lines (mdtrt_id TEXT NOT NULL, feedetl_sn TEXT NOT NULL, chrg_bchno TEXT NOT NULL,
  input_json TEXT NOT NULL, result_json TEXT NOT NULL, amount INTEGER NOT NULL, setl_id TEXT,
  PRIMARY KEY (mdtrt_id, feedetl_sn));
CREATE TABLE IF NOT EXISTS settlements (setl_id TEXT PRIMARY KEY, kind TEXT NOT NULL, orig_setl_id TEXT,
  mdtrt_id TEXT NOT NULL, psn_no TEXT NOT NULL, chrg_bchno TEXT, msgid TEXT NOT NULL, fixmedins_code TEXT NOT NULL,
  insutype TEXT NOT NULL, clr_type TEXT NOT NULL, clr_optins TEXT NOT NULL, setl_time TEXT NOT NULL, year INTEGER NOT NULL,
  medfee INTEGER NOT NULL, fund INTEGER NOT NULL, acct INTEGER NOT NULL, cash INTEGER NOT NULL, mulaid INTEGER NOT NULL,
  dedc INTEGER NOT NULL, hifp INTEGER NOT NULL, owner TEXT, qr TEXT, output_json TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS msgs (msgid TEXT PRIMARY KEY, infno TEXT NOT NULL, fixmedins_code TEXT, setl_id TEXT, time TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (file_qury_no TEXT PRIMARY KEY, filename TEXT NOT NULL, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"#;

pub async fn open(path: &Path) -> anyhow::Result<SqlitePool> {
    if path.exists() {
        let mut head = [0u8; 16];
        use std::io::Read;
        let n = std::fs::File::open(path)?.read(&mut head)?;
        if n > 0 && head[..n.min(16)] != b"SQLite format 3\0"[..n.min(16)] {
            anyhow::bail!(
                "{} is not an SQLite database (refusing to touch it)",
                path.display()
            );
        }
    }
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // WAL + NORMAL: a committed transaction survives a process crash (the
        // crash tests kill the counter, and sometimes the simulator).
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(opts)
        .await?;
    for stmt in SCHEMA.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        sqlx::query(stmt).execute(&pool).await?;
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) FROM persons")
        .fetch_one(&pool)
        .await?
        .get(0);
    if n == 0 {
        for (i, p) in DEMO.iter().enumerate() {
            let secret = hex::encode(rand_bytes(&format!("{}{}", p.psn_no, path.display())));
            sqlx::query("INSERT INTO persons VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
                .bind(p.psn_no)
                .bind(p.name)
                .bind(p.certno)
                .bind(p.gend)
                .bind(p.brdy)
                .bind(p.insutype)
                .bind(p.psn_type)
                .bind(p.insu_stas)
                .bind(p.insuplc_admdvs)
                .bind(p.balc)
                .bind(p.retired)
                .bind(p.activated)
                .bind(p.acct_owner)
                .bind(p.chronic.map(|c| c.0))
                .bind(p.chronic.map(|c| c.1))
                .bind(p.emp_name)
                .bind(secret)
                .bind(p.scenario)
                .bind(p.scenario_zh)
                .bind(i as i64 + 1)
                .execute(&pool)
                .await?;
        }
    }
    Ok(pool)
}

/// Per-database secrets: SM3 of the path, the time and the process id.
fn rand_bytes(seed: &str) -> Vec<u8> {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    sm_crypto::sm3::sm3_hash_raw(format!("{seed}|{t}|{}", std::process::id()).as_bytes())[..16]
        .to_vec()
}

pub async fn next(tx: &mut sqlx::SqliteConnection, name: &str) -> anyhow::Result<i64> {
    sqlx::query("INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    Ok(sqlx::query("SELECT value FROM counters WHERE name = ?")
        .bind(name)
        .fetch_one(&mut *tx)
        .await?
        .get(0))
}
