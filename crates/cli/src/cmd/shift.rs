//! `yibao shift open|cash|handover|close`: the counter's shift (交班). Every command acts
//! with a `yibao login` session; `close` prints the 交班单 as JSON and, with `-o`, as PDF.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use checkout::ErrorCode;
use money::Fen;

use super::audit::open_ledger;
use super::session::Denied;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub cmd: Cmd,
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
    #[arg(long, global = true)]
    pub key: Option<PathBuf>,
    #[arg(long, global = true, env = "YIBAO_SESSION", hide_env_values = true)]
    pub session: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// Open the shift with a float (备用金), e.g. `--float 500.00`.
    Open {
        #[arg(long)]
        float: String,
    },
    /// Cash put in (`--in X`) or taken out (`--out X`) of the drawer, with a note.
    Cash {
        #[arg(long = "in", conflicts_with = "out")]
        in_: Option<String>,
        #[arg(long)]
        out: Option<String>,
        #[arg(long)]
        note: String,
    },
    /// Hand the counter to the next cashier (their password on standard input), with the
    /// outgoing count of the drawer.
    Handover {
        #[arg(long)]
        to: String,
        #[arg(long)]
        counted: String,
    },
    /// Close with the blind count: prints the 交班单 (JSON); `-o FILE.pdf` also renders it.
    Close {
        #[arg(long)]
        counted: String,
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        #[arg(long, default_value = "roll80", value_parser = ["roll80", "a5"])]
        layout: String,
        #[arg(long, default_value = "深圳市演示人民医院")]
        fixmedins_name: String,
    },
}

fn amount(s: &str, what: &str) -> anyhow::Result<Fen> {
    Fen::parse(s.trim()).map_err(|e| anyhow::anyhow!("{what}: {e}"))
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let db = a.db.clone().context("--db FILE")?;
    let token = super::session::token(a.session.as_deref())?.to_string();
    let stdin_pw = if matches!(a.cmd, Cmd::Handover { .. }) {
        let mut pw = String::new();
        std::io::stdin()
            .read_line(&mut pw)
            .context("reading the next cashier's password")?;
        Some(pw.trim_end_matches(['\r', '\n']).to_string())
    } else {
        None
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let ledger = open_ledger(&db, a.key.as_deref()).await?;
        let e = checkout::Engine::new(
            ledger.clone(),
            checkout::EngineConfig::demo("http://127.0.0.1:9"),
        )
        .map_err(|e| anyhow::anyhow!(e.message))?;
        let counter = checkout::Counter::new(e, ledger::AuthSource::Cli);
        let r: anyhow::Result<Result<serde_json::Value, checkout::CheckoutError>> = async {
            if let Err(x) = counter.sign_in_with_token(&token).await {
                return Ok(Err(x));
            }
            Ok(match a.cmd {
                Cmd::Open { float } => counter
                    .open_shift(amount(&float, "--float")?)
                    .await
                    .map(|s| serde_json::json!(s)),
                Cmd::Cash { in_, out, note } => {
                    let (is_in, x) = match (in_, out) {
                        (Some(x), None) => (true, x),
                        (None, Some(x)) => (false, x),
                        _ => anyhow::bail!("--in X or --out X"),
                    };
                    counter
                        .shift_cash(is_in, amount(&x, "amount")?, &note)
                        .await
                        .map(|_| serde_json::json!({"ok": true}))
                }
                Cmd::Handover { to, counted } => counter
                    .hand_over(
                        &to,
                        stdin_pw.as_deref().unwrap_or(""),
                        amount(&counted, "--counted")?,
                    )
                    .await
                    .map(|_| serde_json::json!({"on_duty": to})),
                Cmd::Close {
                    counted,
                    output,
                    layout,
                    fixmedins_name,
                } => match counter.close_shift(amount(&counted, "--counted")?).await {
                    Ok(rep) => {
                        if let Some(path) = output {
                            let sheet = rep.sheet(&fixmedins_name);
                            let layout =
                                receipt::Layout::parse(&layout).unwrap_or(receipt::Layout::Roll80);
                            let pdf = receipt::render_sheet(&sheet, layout)
                                .map_err(anyhow::Error::msg)?;
                            std::fs::write(&path, pdf)
                                .with_context(|| format!("writing {}", path.display()))?;
                        }
                        Ok(serde_json::json!(rep))
                    }
                    Err(x) => Err(x),
                },
            })
        }
        .await;
        ledger.close().await;
        match r? {
            Ok(v) => {
                println!("{}", serde_json::to_string_pretty(&v)?);
                Ok(ExitCode::SUCCESS)
            }
            Err(x) if matches!(x.kind, ErrorCode::NotSignedIn | ErrorCode::Forbidden) => {
                Err(Denied(format!("{}（{}）", x.message, x.action)).into())
            }
            Err(x) => {
                eprintln!("{}（{}）", x.message, x.action);
                Ok(ExitCode::from(2))
            }
        }
    })
}
