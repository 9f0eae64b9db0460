//! `yibao hub account|share|pull`: what is the institution's (accounts, dictionaries,
//! the catalogue mapping, shared settings) put at the hub by its administrator and
//! pulled into each counter's ledger, where it stays for offline work.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hub::shared::{Account, Shared};

use super::audit::open_ledger;

#[derive(clap::Subcommand)]
pub enum AccountCmd {
    /// Create an account or change its name, role and password (the password on
    /// standard input; the hub keeps only its argon2id hash).
    Set {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["cashier", "supervisor", "finance", "admin"])]
        role: String,
    },
    /// Lock the account at every counter (it signs in nowhere).
    Lock {
        #[arg(long)]
        id: String,
    },
    /// Unlock it again.
    Unlock {
        #[arg(long)]
        id: String,
    },
}

#[derive(clap::Args)]
pub struct AccountArgs {
    #[command(subcommand)]
    pub cmd: AccountCmd,
    #[arg(long, global = true)]
    pub hub: Option<String>,
    #[arg(
        long,
        global = true,
        env = "YIBAO_HUB_ADMIN_TOKEN",
        hide_env_values = true
    )]
    pub admin_token: Option<String>,
}

#[derive(clap::Args)]
pub struct ShareArgs {
    #[arg(long)]
    pub hub: String,
    #[arg(long, env = "YIBAO_HUB_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: String,
    /// departments.csv (`医保科室编码,科室名称,科别`).
    #[arg(long)]
    pub departments: Option<PathBuf>,
    /// doctors.csv (`医保医师编码,医生姓名,科室编码`).
    #[arg(long)]
    pub doctors: Option<PathBuf>,
    /// The hospital's mapping (the `yibao catalog map import` CSV).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// A shared setting, `KEY=VALUE` (fixmedins_name, mask_patient_name, receipt_layout).
    #[arg(long = "setting")]
    pub settings: Vec<String>,
}

fn read(p: &PathBuf) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
}

fn input(e: checkout::CheckoutError) -> anyhow::Error {
    anyhow::anyhow!(e.message)
}

pub async fn account(a: AccountArgs) -> anyhow::Result<ExitCode> {
    let hub = a.hub.context("--hub URL")?;
    let token = a
        .admin_token
        .context("--admin-token (YIBAO_HUB_ADMIN_TOKEN)")?;
    let item = match a.cmd {
        AccountCmd::Set { id, name, role } => {
            let mut pw = String::new();
            std::io::stdin()
                .read_line(&mut pw)
                .context("reading the password from standard input")?;
            let pw = pw.trim_end_matches(['\r', '\n']);
            let password_hash = match ledger::hash_new_password(&id, pw) {
                Ok(h) => h,
                Err(e) => {
                    eprintln!("{}", e.message_zh());
                    return Ok(ExitCode::from(2));
                }
            };
            Account {
                id,
                name,
                role,
                password_hash,
                active: true,
            }
        }
        AccountCmd::Lock { id } => with_active(&hub, &token, &id, false).await?,
        AccountCmd::Unlock { id } => with_active(&hub, &token, &id, true).await?,
    };
    let id = item.id.clone();
    let active = item.active;
    let version = hub::shared::put_items(&hub, &token, &[Shared::Account(item)]).await?;
    println!(
        "{}",
        serde_json::json!({"account": id, "active": active, "version": version})
    );
    Ok(ExitCode::SUCCESS)
}

async fn with_active(hub: &str, token: &str, id: &str, active: bool) -> anyhow::Result<Account> {
    match hub::shared::get_item(hub, token, "account", id).await? {
        Some(Shared::Account(mut a)) => {
            a.active = active;
            Ok(a)
        }
        _ => anyhow::bail!("中心库没有账户 {id}"),
    }
}

pub async fn share(a: ShareArgs) -> anyhow::Result<ExitCode> {
    let mut items = Vec::new();
    if let Some(p) = &a.departments {
        let list = checkout::dict::departments_csv(&read(p)?).map_err(input)?;
        items.extend(list.into_iter().map(Shared::Department));
    }
    if let Some(p) = &a.doctors {
        let list = checkout::dict::doctors_csv(&read(p)?).map_err(input)?;
        items.extend(list.into_iter().map(Shared::Doctor));
    }
    if let Some(p) = &a.mapping {
        let list = checkout::catalog::parse_mapping(&read(p)?).map_err(input)?;
        items.extend(list.into_iter().map(Shared::Mapping));
    }
    for s in &a.settings {
        let (key, value) = s.split_once('=').context("--setting KEY=VALUE")?;
        items.push(Shared::Setting {
            key: key.trim().into(),
            value: value.trim().into(),
        });
    }
    if items.is_empty() {
        anyhow::bail!("nothing to share: --departments, --doctors, --mapping or --setting");
    }
    let version = hub::shared::put_items(&a.hub, &a.admin_token, &items).await?;
    println!(
        "{}",
        serde_json::json!({"items": items.len(), "version": version})
    );
    Ok(ExitCode::SUCCESS)
}

/// Pull what changed at the hub into one counter's ledger.
pub async fn pull(
    db: PathBuf,
    ledger_key: Option<PathBuf>,
    hub: String,
    key: String,
) -> anyhow::Result<ExitCode> {
    let ledger = open_ledger(&db, ledger_key.as_deref()).await?;
    let r = hub::shared::pull(&ledger, &hub, &key).await;
    ledger.close().await;
    match r {
        Ok(p) => {
            println!("{}", serde_json::to_string(&p)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("从中心库更新失败（本机缓存照常可用）：{e:#}");
            Ok(ExitCode::from(7))
        }
    }
}
