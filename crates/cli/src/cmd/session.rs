//! `yibao login` and `yibao logout`: the command line authenticates its operator once
//! per shift. `login` reads the password on standard input and prints a session token
//! on one line; every command that acts as an operator takes it as `--session TOKEN`
//! (or `YIBAO_SESSION`) and refuses without one.
use std::process::ExitCode;

use chrono::Local;
use ledger::{Action, AuthSource};

use super::audit::{open_ledger, read_password, DbArgs};

/// Exit code of a command refused for want of a valid session or of the role.
pub const UNAUTHORIZED: u8 = 8;

/// A refusal to act: no session, an expired one, or a role that may not do this.
#[derive(Debug)]
pub struct Denied(pub String);

impl std::fmt::Display for Denied {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Denied {}

#[derive(clap::Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The account signing in; the password is read from standard input.
    #[arg(long)]
    pub operator: String,
}

#[derive(clap::Args)]
pub struct LogoutArgs {
    #[command(flatten)]
    pub db: DbArgs,
    #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
    pub session: String,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

pub fn run_login(a: LoginArgs) -> anyhow::Result<ExitCode> {
    let pw = read_password()?;
    runtime()?.block_on(async move {
        let l = open_ledger(&a.db.db, Some(&a.db.key_path())).await?;
        let r = l
            .open_session(
                &a.operator,
                &pw,
                AuthSource::Cli,
                Local::now().naive_local(),
            )
            .await;
        l.close().await;
        match r {
            Ok((token, _)) => {
                println!("{token}");
                Ok(ExitCode::SUCCESS)
            }
            Err(ledger::Error::Auth(e)) => {
                eprintln!("yibao: {}", e.message_zh());
                Ok(ExitCode::from(UNAUTHORIZED))
            }
            Err(e) => Err(e.into()),
        }
    })
}

pub fn run_logout(a: LogoutArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let l = open_ledger(&a.db.db, Some(&a.db.key_path())).await?;
        l.end_session(&a.session, Local::now().naive_local())
            .await?;
        l.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// The session token a command was given, or the refusal that says how to get one.
pub fn token(session: Option<&str>) -> anyhow::Result<&str> {
    session.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        Denied(
            "no session: sign in first with `yibao login --db FILE --operator ID` (password on standard input) and pass the token as --session or YIBAO_SESSION".into(),
        )
        .into()
    })
}

/// A `claimed` id (today's `--operator`) must be the session's own operator.
pub fn check_claimed(claimed: Option<&str>, actual: &str) -> anyhow::Result<()> {
    match claimed.filter(|id| *id != actual) {
        Some(id) => Err(Denied(format!(
            "--operator {id} is not the operator of this session ({actual})"
        ))
        .into()),
        None => Ok(()),
    }
}

/// The operator a command that only reads or manages the ledger acts as (accounts,
/// the audit log): the session's, allowed to do `action`. Commands that take patients
/// go through `checkout::Counter` with the same token and the same rules.
pub async fn authenticate(
    l: &ledger::Ledger,
    session: Option<&str>,
    claimed: Option<&str>,
    action: Action,
) -> anyhow::Result<ledger::Operator> {
    let token = token(session)?;
    let s = l
        .session(token, Local::now().naive_local())
        .await
        .map_err(|e| match e {
            ledger::Error::Auth(a) => anyhow::Error::new(Denied(a.message_zh())),
            other => other.into(),
        })?;
    check_claimed(claimed, &s.operator.id)?;
    if !s.operator.role.may(action) {
        return Err(Denied(format!(
            "{}（{}）may not do this ({action:?})",
            s.operator.id,
            s.operator.role.label_zh()
        ))
        .into());
    }
    Ok(s.operator)
}
