//! `yibao receipt --db FILE --setl-id ID -o OUT.pdf [--layout roll80|a5] [--reprint]`;
//! `yibao receipt --db FILE --checkout ID -o OUT.pdf`: an offline collection's statement.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub db: PathBuf,
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A settlement id (a refund's id gives the refund receipt).
    #[arg(long, required_unless_present = "checkout")]
    pub setl_id: Option<String>,
    /// An offline collection's checkout id: its fee statement (for the queued
    /// settlement, or 手工报销).
    #[arg(long, conflicts_with = "setl_id")]
    pub checkout: Option<String>,
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    #[arg(long, default_value = "roll80", value_parser = ["roll80", "a5"])]
    pub layout: String,
    /// Mark the receipt 补打.
    #[arg(long)]
    pub reprint: bool,
    /// Also send it to this CUPS printer.
    #[arg(long)]
    pub print: Option<String>,
    /// Also write the e-invoice request (JSON) here.
    #[arg(long)]
    pub einvoice: Option<PathBuf>,
    /// Show the patient's full name (default: masked).
    #[arg(long)]
    pub no_mask: bool,
    #[arg(long, default_value = "深圳市演示人民医院")]
    pub fixmedins_name: String,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let ledger = super::audit::open_existing_ledger(&a.db, a.key.as_deref()).await?;
        let mut cfg = checkout::EngineConfig::demo("http://127.0.0.1:9");
        cfg.institution.fixmedins_name = a.fixmedins_name.clone();
        let engine =
            checkout::Engine::new(ledger.clone(), cfg).map_err(|e| anyhow::anyhow!(e.message))?;
        let mut data = match (&a.setl_id, &a.checkout) {
            (_, Some(c)) => engine.offline_statement(c, !a.no_mask).await,
            (Some(setl), None) => {
                let s = ledger
                    .settlement(setl)
                    .await?
                    .with_context(|| format!("no settlement {setl} in {}", a.db.display()))?;
                let refund = s.kind == ledger::SettlementKind::Cancel;
                engine
                    .receipt_data(&s.checkout_id, refund, !a.no_mask)
                    .await
            }
            (None, None) => unreachable!("clap requires one"),
        }
        .map_err(|e| anyhow::anyhow!(e.message))?;
        data.reprint = a.reprint;
        let layout = receipt::Layout::parse(&a.layout).unwrap_or(receipt::Layout::Roll80);
        let pdf = receipt::render_pdf(&data, layout).map_err(anyhow::Error::msg)?;
        std::fs::write(&a.output, &pdf)
            .with_context(|| format!("writing {}", a.output.display()))?;
        if let Some(p) = &a.einvoice {
            std::fs::write(
                p,
                serde_json::to_vec_pretty(&receipt::einvoice_request(&data, "001"))?,
            )?;
        }
        eprintln!("{}: {} bytes", a.output.display(), pdf.len());
        if let Some(printer) = &a.print {
            let job = a.setl_id.clone().or(a.checkout.clone()).unwrap_or_default();
            match receipt::print_pdf(&a.output, Some(printer), &format!("receipt-{job}")) {
                Ok(job) => eprintln!("printed: {job}"),
                Err(e) => {
                    let (m, act) = e.message_zh();
                    eprintln!("{m}：{act}（{e}）");
                    return Ok(ExitCode::from(3));
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
