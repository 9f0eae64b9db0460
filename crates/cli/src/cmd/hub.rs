//! `yibao hub …`: the institution's hub on PostgreSQL (serve, enroll, push, report).
//! Output formats are a contract (issue "The hospital, not one counter").
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::audit::open_ledger;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
    /// Serve the hub on this address (`yibao hub --listen ADDR --database URL`).
    #[arg(long)]
    pub listen: Option<String>,
    /// The PostgreSQL URL (`postgres://user@host:port/db`).
    #[arg(long)]
    pub database: Option<String>,
    /// The administrator's token (enrolment and the institution's report).
    #[arg(long, env = "YIBAO_HUB_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Enrol a counter: prints its key (which names the counter) once, on one line.
    Enroll {
        #[arg(long)]
        hub: String,
        #[arg(long)]
        counter: String,
        #[arg(long, env = "YIBAO_HUB_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: String,
    },
    /// Drain one counter's ledger to the hub: prints `{"pushed": N, "pending": N}`.
    Push {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "ledger-key")]
        ledger_key: Option<PathBuf>,
        #[arg(long)]
        hub: String,
        /// The counter's hub key (from `yibao hub enroll`).
        #[arg(long, env = "YIBAO_HUB_KEY", hide_env_values = true)]
        key: String,
    },
    /// The institution's day: one JSON object with the totals and `counters`.
    Report {
        #[arg(long)]
        hub: String,
        #[arg(long)]
        date: String,
        /// The administrator's token, or a counter's key.
        #[arg(long, env = "YIBAO_HUB_ADMIN_TOKEN", hide_env_values = true)]
        token: String,
    },
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        match a.cmd {
            None => {
                let listen = a.listen.context("--listen ADDR")?;
                let database = a.database.context("--database URL")?;
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .with_context(|| format!("cannot listen on {listen}"))?;
                let addr = listener.local_addr()?;
                let app = hub::router(hub::HubOptions {
                    database_url: database,
                    admin_token: a.admin_token.unwrap_or_default(),
                })
                .await
                .context("connecting to the hub's database")?;
                println!("listening on http://{addr}");
                std::io::stdout().flush()?;
                axum::serve(listener, app).await?;
                Ok(ExitCode::SUCCESS)
            }
            Some(Cmd::Enroll {
                hub,
                counter,
                admin_token,
            }) => {
                let key = hub::client::enroll(&hub, &admin_token, &counter).await?;
                println!("{key}");
                Ok(ExitCode::SUCCESS)
            }
            Some(Cmd::Push {
                db,
                ledger_key,
                hub,
                key,
            }) => {
                let ledger = open_ledger(&db, ledger_key.as_deref()).await?;
                let r = hub::client::push(&ledger, &hub, &key).await;
                ledger.close().await;
                let r = r?;
                println!(
                    "{}",
                    serde_json::json!({"pushed": r.pushed, "pending": r.pending})
                );
                Ok(if r.pending == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(7)
                })
            }
            Some(Cmd::Report { hub, date, token }) => {
                let v = hub::client::report(&hub, &token, &date).await?;
                println!("{v}");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
