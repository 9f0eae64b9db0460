//! `yibao dict import|list`: the institution's departments and doctors dictionaries
//! (clinic mode builds its visits from them). Importing is a supervisor's or admin's
//! setting and goes into the audit log.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use checkout::{DictKind, ErrorCode};

use super::audit::open_ledger;
use super::session::Denied;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Import a CSV (`dept_code,dept_name,caty` or `dr_code,dr_name,dept_code`): all rows or none.
    Import {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long, value_parser = ["departments", "doctors"])]
        kind: String,
        /// The operator's session (`yibao login`).
        #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
        session: Option<String>,
        csv: PathBuf,
    },
    /// Print the dictionary, one JSON object per line.
    List {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long, value_parser = ["departments", "doctors"])]
        kind: String,
    },
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match a.cmd {
            Cmd::Import {
                db,
                key,
                kind,
                session,
                csv,
            } => {
                let text = std::fs::read_to_string(&csv)
                    .with_context(|| format!("reading {}", csv.display()))?;
                let kind = DictKind::parse(&kind).context("--kind")?;
                let token = super::session::token(session.as_deref())?;
                let ledger = open_ledger(&db, key.as_deref()).await?;
                let e = checkout::Engine::new(
                    ledger.clone(),
                    checkout::EngineConfig::demo("http://127.0.0.1:9"),
                )
                .map_err(|e| anyhow::anyhow!(e.message))?;
                let counter = checkout::Counter::new(e, ledger::AuthSource::Cli);
                let r = match counter.sign_in_with_token(token).await {
                    Ok(_) => counter.import_dictionary(kind, &text).await,
                    Err(e) => Err(e),
                };
                ledger.close().await;
                match r {
                    Ok(n) => {
                        println!("{}", serde_json::json!({"imported": n}));
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(e)
                        if matches!(
                            e.kind,
                            ErrorCode::NotSignedIn | ErrorCode::Forbidden | ErrorCode::Auth
                        ) =>
                    {
                        Err(Denied(format!("{}（{}）", e.message, e.action)).into())
                    }
                    Err(e) => {
                        eprintln!("{}（{}）", e.message, e.action);
                        Ok(ExitCode::from(2))
                    }
                }
            }
            Cmd::List { db, key, kind } => {
                let ledger = open_ledger(&db, key.as_deref()).await?;
                let out: Vec<serde_json::Value> = match DictKind::parse(&kind) {
                    Some(DictKind::Departments) => ledger
                        .departments()
                        .await?
                        .into_iter()
                        .map(|d| serde_json::json!(d))
                        .collect(),
                    _ => ledger
                        .doctors()
                        .await?
                        .into_iter()
                        .map(|d| serde_json::json!(d))
                        .collect(),
                };
                ledger.close().await;
                for o in out {
                    println!("{o}");
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
