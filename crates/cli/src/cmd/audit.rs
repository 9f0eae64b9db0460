//! `yibao audit verify|list|flags` and `yibao user add|list|check`.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger::chrono::Local;
use ledger::{Ledger, LedgerKey, Role};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: AuditCmd,
}

#[derive(clap::Subcommand)]
enum AuditCmd {
    /// Walk the keyed SM3 chain and check the money tables against it; exit 1 and list
    /// the problems if any entry was edited, deleted or does not match the money.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// A head anchored outside the ledger (`seq:hash`, printed on a day's report):
        /// entries cut back before it are caught too.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print audit entries as JSON lines.
    List {
        #[command(flatten)]
        db: DbArgs,
        /// Only entries after this sequence number.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
    /// 电子围栏: the flags raised (repeat and burst settlements of one person, refunds of
    /// one's own settlements, activity after hours), one JSON line each; a supervisor's,
    /// finance's or admin's session.
    Flags {
        #[command(flatten)]
        db: DbArgs,
        /// From this day (YYYY-MM-DD); default today.
        #[arg(long)]
        since: Option<String>,
        #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
        session: Option<String>,
    },
}

#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// The ledger database file.
    #[arg(long)]
    pub db: PathBuf,
    /// The SM4 key file for personal data (default: `<db>.key`, created 0600 if missing).
    #[arg(long)]
    pub key: Option<PathBuf>,
}

impl DbArgs {
    pub fn key_path(&self) -> PathBuf {
        self.key
            .clone()
            .unwrap_or_else(|| LedgerKey::default_path_for(&self.db))
    }
}

/// Open an existing ledger read-only: a missing, empty or foreign file is an error,
/// and nothing (directory, ledger, key) is ever created.
pub async fn open_existing_ledger(db: &Path, key: Option<&Path>) -> anyhow::Result<Ledger> {
    let key_path = key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| LedgerKey::default_path_for(db));
    if !db.is_file() {
        anyhow::bail!("{}: no such ledger (nothing was created)", db.display());
    }
    let key = LedgerKey::load(&key_path)?;
    Ok(Ledger::open_read_only(db, &key).await?)
}

/// Open (create) the ledger and its key file.
pub async fn open_ledger(db: &Path, key: Option<&Path>) -> anyhow::Result<Ledger> {
    let key_path = key
        .map(Path::to_path_buf)
        .unwrap_or_else(|| LedgerKey::default_path_for(db));
    let key = LedgerKey::load_or_create(&key_path)?;
    Ok(Ledger::open(db, &key).await?)
}

#[derive(clap::Args)]
pub struct UserArgs {
    #[command(subcommand)]
    cmd: UserCmd,
}

#[derive(clap::Subcommand)]
enum UserCmd {
    /// Create a cashier account; the password is read from standard input.
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// cashier, supervisor, finance or admin
        #[arg(long, value_parser = ["cashier", "supervisor", "finance", "admin"])]
        role: String,
        /// Read the password from standard input (first line). Required: passwords are never arguments.
        #[arg(long)]
        password_stdin: bool,
        /// The session of the supervisor (or admin) adding the account (`yibao login`);
        /// only the first account of an empty ledger is made without one.
        #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
        session: Option<String>,
    },
    /// List accounts as JSON (a supervisor's or admin's session).
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
        session: Option<String>,
    },
    /// Check a password (read from stdin); exit 0 when it matches.
    Check {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        id: String,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let pw = s.lines().next().unwrap_or("").to_string();
    anyhow::ensure!(!pw.is_empty(), "no password on standard input");
    Ok(pw)
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        match a.cmd {
            AuditCmd::Verify { db, head } => {
                let l = open_existing_ledger(&db.db, Some(&db.key_path())).await?;
                let mut rep = l.verify_audit().await?;
                if let Some(anchor) = &head {
                    if let Some(p) = l.verify_anchor(anchor).await? {
                        rep.problems.push(p);
                        rep.ok = false;
                    }
                }
                println!("{}", serde_json::to_string_pretty(&rep)?);
                if rep.ok {
                    eprintln!("审计日志完整：{} 条记录", rep.entries);
                    Ok(ExitCode::SUCCESS)
                } else {
                    for p in &rep.problems {
                        eprintln!("审计日志第 {} 条异常（{}）：{}", p.seq, p.kind, p.detail);
                    }
                    Ok(ExitCode::from(1))
                }
            }
            AuditCmd::Flags { db, since, session } => {
                let l = open_existing_ledger(&db.db, Some(&db.key_path())).await?;
                super::session::authenticate(
                    &l,
                    session.as_deref(),
                    None,
                    ledger::Action::ReadAudit,
                )
                .await?;
                let since = since.unwrap_or_else(|| Local::now().format("%Y-%m-%d").to_string());
                for f in checkout::fence::flags(&l, &since).await? {
                    println!("{}", serde_json::to_string(&f)?);
                }
                Ok(ExitCode::SUCCESS)
            }
            AuditCmd::List { db, after, limit } => {
                let l = open_existing_ledger(&db.db, Some(&db.key_path())).await?;
                for e in l.audit_entries(after, limit).await? {
                    println!("{}", serde_json::to_string(&e)?);
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

pub fn run_user(a: UserArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let now = Local::now().naive_local();
        match a.cmd {
            UserCmd::Add {
                db,
                id,
                name,
                role,
                password_stdin,
                session,
            } => {
                anyhow::ensure!(
                    password_stdin,
                    "pass --password-stdin and the password on standard input (never as an argument)"
                );
                let pw = read_password()?;
                let l = open_ledger(&db.db, Some(&db.key_path())).await?;
                let r = async {
                    let by = match session.as_deref() {
                        Some(_) => Some(
                            super::session::authenticate(
                                &l,
                                session.as_deref(),
                                None,
                                ledger::Action::ManageUsers,
                            )
                            .await?,
                        ),
                        None => None,
                    };
                    match l
                        .add_operator(by.as_ref(), &id, &name, Role::parse(&role)?, &pw, now)
                        .await
                    {
                        Err(ledger::Error::Auth(e)) => {
                            Err(anyhow::Error::new(super::session::Denied(e.message_zh())))
                        }
                        other => Ok(other?),
                    }
                }
                .await;
                l.close().await;
                let op = r?;
                println!("{}", serde_json::to_string(&op)?);
                Ok(ExitCode::SUCCESS)
            }
            UserCmd::List { db, session } => {
                let l = open_existing_ledger(&db.db, Some(&db.key_path())).await?;
                super::session::authenticate(
                    &l,
                    session.as_deref(),
                    None,
                    ledger::Action::ManageUsers,
                )
                .await?;
                println!("{}", serde_json::to_string_pretty(&l.operators().await?)?);
                Ok(ExitCode::SUCCESS)
            }
            UserCmd::Check { db, id } => {
                let pw = read_password()?;
                let l = open_ledger(&db.db, Some(&db.key_path())).await?;
                match l
                    .verify_password_at(&id, &pw, ledger::AuthSource::Cli, now)
                    .await
                {
                    Ok(op) => {
                        println!("{}", serde_json::to_string(&op)?);
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(ledger::Error::Auth(e)) => {
                        eprintln!("{}", e.message_zh());
                        Ok(ExitCode::from(2))
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    })
}
