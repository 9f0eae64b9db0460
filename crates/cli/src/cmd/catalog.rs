//! `yibao catalog sync|find|map import`: the national catalogue at the counter and
//! the hospital's mapping. Output formats are a contract (issue "The national
//! catalogue and the hospital's mapping").
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use checkout::ErrorCode;

use super::audit::open_ledger;
use super::checkout::CenterArgs;
use super::session::Denied;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
}

// Parsed once per process: the size of the largest arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Download what changed since the last sync; prints `{"ver","downloaded","changed"}`.
    Sync {
        #[command(flatten)]
        center: CenterArgs,
    },
    /// Search the synced catalogue: one JSON line per match
    /// (`med_list_codg`, `name`, `chrgitm_lv`, `selfpay_prop`, `lmt_pric`).
    Find {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        query: String,
    },
    /// The hospital's mapping (目录对照).
    Map {
        #[command(subcommand)]
        cmd: MapCmd,
    },
}

#[derive(clap::Subcommand)]
pub enum MapCmd {
    /// Import `hosp_code,name,pric,unit,med_list_codg[,hosp_appr_flag]` (all rows or none).
    Import {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        key: Option<PathBuf>,
        #[arg(long, env = "YIBAO_SESSION", hide_env_values = true)]
        session: Option<String>,
        csv: PathBuf,
    },
}

fn denied_or(e: checkout::CheckoutError) -> anyhow::Result<ExitCode> {
    if matches!(
        e.kind,
        ErrorCode::NotSignedIn | ErrorCode::Forbidden | ErrorCode::Auth
    ) {
        return Err(Denied(format!("{}（{}）", e.message, e.action)).into());
    }
    eprintln!(
        "{}（{}）{}",
        e.message,
        e.action,
        e.detail.clone().unwrap_or_default()
    );
    Ok(ExitCode::from(if e.is_network() { 3 } else { 2 }))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match a.cmd {
            Cmd::Sync { center } => {
                let token = super::session::token(center.session.as_deref())?.to_string();
                let e = super::checkout::engine_for(&center).await?;
                let counter = checkout::Counter::new(e.clone(), ledger::AuthSource::Cli);
                let work = center
                    .db
                    .parent()
                    .map(|p| p.to_path_buf())
                    .unwrap_or_else(|| PathBuf::from("."));
                let r = match counter.sign_in_with_token(&token).await {
                    Ok(_) => counter.sync_catalog(&work).await,
                    Err(x) => Err(x),
                };
                e.ledger.close().await;
                match r {
                    Ok(s) => {
                        println!(
                            "{}",
                            serde_json::json!({"ver": s.ver, "downloaded": s.downloaded, "changed": s.changed})
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(x) => denied_or(x),
                }
            }
            Cmd::Find {
                db,
                key,
                limit,
                query,
            } => {
                let ledger = open_ledger(&db, key.as_deref()).await?;
                let rows = ledger.catalog_find(&query, limit).await?;
                ledger.close().await;
                for r in &rows {
                    println!("{}", checkout::catalog::find_json(r));
                }
                Ok(ExitCode::SUCCESS)
            }
            Cmd::Map {
                cmd: MapCmd::Import { db, key, session, csv },
            } => {
                let text = std::fs::read_to_string(&csv)
                    .with_context(|| format!("reading {}", csv.display()))?;
                let token = super::session::token(session.as_deref())?.to_string();
                let ledger = open_ledger(&db, key.as_deref()).await?;
                let e = checkout::Engine::new(
                    ledger.clone(),
                    checkout::EngineConfig::demo("http://127.0.0.1:9"),
                )
                .map_err(|e| anyhow::anyhow!(e.message))?;
                let counter = checkout::Counter::new(e, ledger::AuthSource::Cli);
                let r = match counter.sign_in_with_token(&token).await {
                    Ok(_) => counter.import_mapping(&text).await,
                    Err(x) => Err(x),
                };
                ledger.close().await;
                match r {
                    Ok(n) => {
                        println!("{}", serde_json::json!({"imported": n}));
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(x) => denied_or(x),
                }
            }
        }
    })
}
