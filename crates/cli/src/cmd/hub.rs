//! `yibao hub …`: the institution's hub on PostgreSQL (serve, enroll, push, report, and
//! the institution's end of day: close).
//! Output formats are a contract (issue "The hospital, not one counter").
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use super::audit::open_ledger;
use super::checkout::CenterArgs;

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

// Parsed once per process: the size of the largest arguments does not matter.
#[allow(clippy::large_enum_variant)]
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
        /// Print the finance CSV instead (the finance screen's export: per counter, the
        /// total, per hour; UTF-8 with BOM).
        #[arg(long)]
        csv: bool,
        /// The institution's name on the CSV.
        #[arg(long, default_value = "深圳市演示人民医院")]
        fixmedins_name: String,
    },
    /// The institution's end of day from the hub (a finance workstation): 3201 per
    /// (insutype, clr_type, clr_optins) over every counter's settlements, 3202 where a
    /// group does not balance, each difference traced to its counter and cashier. One
    /// JSON object; exit 5 when anything does not balance.
    Close(CloseArgs),
    /// The institution's accounts (the administrator): set, lock, unlock.
    Account(super::hub_shared::AccountArgs),
    /// Share departments, doctors, the mapping or settings with every counter.
    Share(super::hub_shared::ShareArgs),
    /// Pull what changed at the hub into one counter's ledger: prints what was applied.
    Pull {
        #[arg(long)]
        db: PathBuf,
        #[arg(long = "ledger-key")]
        ledger_key: Option<PathBuf>,
        #[arg(long)]
        hub: String,
        #[arg(long, env = "YIBAO_HUB_KEY", hide_env_values = true)]
        key: String,
    },
}

#[derive(clap::Args)]
pub struct CloseArgs {
    /// The center and this workstation's own ledger (its calls and msgids), counter
    /// number (`--terminal`) and session (`yibao login`, finance or supervisor).
    #[command(flatten)]
    pub center: CenterArgs,
    #[arg(long)]
    pub hub: String,
    /// The day (yyyy-mm-dd); default today.
    #[arg(long)]
    pub date: Option<String>,
    /// The hub's administrator's token.
    #[arg(long, env = "YIBAO_HUB_ADMIN_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Count refunds/cancellations (refd_setl_flag 1).
    #[arg(long)]
    pub refunds: bool,
    #[arg(long)]
    pub operator: Option<String>,
}

/// Exit code of `yibao hub close` when a group does not balance (as `yibao reconcile`).
const NOT_BALANCED: u8 = 5;
/// The hub or the center could not be reached (or refused): nothing was concluded.
const UNREACHABLE: u8 = 3;

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
            Some(Cmd::Report {
                hub,
                date,
                token,
                csv,
                fixmedins_name,
            }) => {
                let v = hub::client::report(&hub, &token, &date).await?;
                if csv {
                    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
                    print!(
                        "{}",
                        hub::report::to_csv(&v, &fixmedins_name, "yibao hub report", &now)
                    );
                } else {
                    println!("{v}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Some(Cmd::Close(c)) => close(c).await,
            Some(Cmd::Account(x)) => super::hub_shared::account(x).await,
            Some(Cmd::Share(x)) => super::hub_shared::share(x).await,
            Some(Cmd::Pull {
                db,
                ledger_key,
                hub,
                key,
            }) => super::hub_shared::pull(db, ledger_key, hub, key).await,
        }
    })
}

/// `yibao hub close`: the institution's day from the hub against the center.
async fn close(a: CloseArgs) -> anyhow::Result<ExitCode> {
    let day = a
        .date
        .clone()
        .unwrap_or_else(|| chrono::Local::now().format("%Y-%m-%d").to_string());
    if chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").is_err() {
        eprintln!("日期 {day} 格式应为 2026-11-25");
        return Ok(ExitCode::from(2));
    }
    let e = super::checkout::engine_for(&a.center).await?;
    let r = close_with(&e, &a, &day).await;
    e.ledger.close().await;
    r
}

async fn close_with(e: &checkout::Engine, a: &CloseArgs, day: &str) -> anyhow::Result<ExitCode> {
    // The institution's close is finance's or a supervisor's (Action::InstitutionReport);
    // a cashier closes only their own counter (`yibao reconcile`).
    let s = super::checkout::signed(
        e,
        &a.center,
        a.operator.as_deref(),
        ledger::Action::InstitutionReport,
    )
    .await?;
    let op = s.operator();
    let held = match hub::client::settlements(&a.hub, &a.token, day).await {
        Ok(v) => v,
        Err(x) => {
            eprintln!("无法从医院中心库取得 {day} 的全院结算：{x:#}");
            return Ok(ExitCode::from(UNREACHABLE));
        }
    };
    let groups = e.with_main_groups(reconcile::groups(&held.records(), day, a.refunds));
    let checks = match e.reconcile_groups(&op, day, groups, a.refunds).await {
        Ok(c) => c,
        Err(x) => {
            eprintln!(
                "{}：{}（{}）",
                x.message,
                x.action,
                x.detail.clone().unwrap_or_default()
            );
            println!("{}", serde_json::json!({"error": x}));
            return Ok(ExitCode::from(if x.is_network() { UNREACHABLE } else { 2 }));
        }
    };
    let balanced = checks.iter().all(|c| c.balanced);
    let groups: Vec<serde_json::Value> = checks
        .iter()
        .map(|c| {
            let g = &c.group;
            let differences: Vec<serde_json::Value> = c
                .differences
                .iter()
                .map(|d| {
                    let t = held.trace(&d.setl_id, &d.msgid);
                    let ours = held.settlements.iter().find(|s| s.setl_id == d.setl_id);
                    let medfee = d.medfee_sumamt.or(ours.map(|s| s.medfee_sumamt));
                    let note = match (&t.counter, &t.cashier, t.counter_no) {
                        (Some(k), Some(c), _) => format!("收费台 {k}，收费员 {c}"),
                        (Some(k), None, _) => {
                            format!("医院中心库未收到该结算：按报文ID 是收费台 {k}，收费员未知")
                        }
                        (None, _, Some(n)) => format!(
                            "医院中心库未收到该结算：按报文ID 是第 {n:02} 号收费台（未登记），收费员未知"
                        ),
                        (None, _, None) => "无法追溯到收费台，收费员未知".to_string(),
                    };
                    serde_json::json!({"setl_id": d.setl_id, "memo": d.memo, "counter": t.counter,
                        "counter_no": t.counter_no, "cashier": t.cashier,
                        "medfee_sumamt": medfee.map(|f| f.to_string()), "msgid": d.msgid,
                        "refd_setl_flag": d.refd_setl_flag, "trace": note})
                })
                .collect();
            serde_json::json!({"insutype": g.insutype, "clr_type": g.clr_type,
                "clr_optins": g.setl_optins, "count": g.count,
                "medfee_sumamt": g.medfee_sumamt.to_string(),
                "fund_pay_sumamt": g.fund_pay_sumamt.to_string(),
                "acct_pay": g.acct_pay.to_string(), "stmt_rslt": c.stmt_rslt,
                "stmt_rslt_dscr": c.stmt_rslt_dscr, "balanced": c.balanced,
                "differences": differences})
        })
        .collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({"date": day, "balanced": balanced,
            "include_refunds": a.refunds, "settlements": held.settlements.len(),
            "groups": groups}))?
    );
    Ok(if balanced {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(NOT_BALANCED)
    })
}
