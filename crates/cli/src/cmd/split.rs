//! `yibao split BILL.json`: the split of a bill, as JSON with NHSA field names.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// The bill file (format of shared/reference/examples/bill-B1a.json); `-` reads standard input.
    pub bill: PathBuf,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let text = if a.bill.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading the bill from standard input")?
    } else {
        std::fs::read_to_string(&a.bill).with_context(|| format!("reading {}", a.bill.display()))?
    };
    let bill = match billing::BillInput::from_json(&text) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("yibao split: invalid bill: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let s = bill.split();
    let mut v = serde_json::to_value(&s)?;
    // Explain the fallback in words for the cashier as well.
    v["fallback_zh"] = s.fallback.iter().map(|r| r.explain_zh()).collect();
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(ExitCode::SUCCESS)
}
