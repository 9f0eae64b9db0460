//! `yibao nhsa parse --infno N FILE`: read a response envelope, check the
//! identities of §1.5, print the normalised output (amounts as two-place
//! decimal strings). Malformed or inconsistent → exit 1 with the reason.
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: NhsaCmd,
}

#[derive(clap::Subcommand)]
enum NhsaCmd {
    /// Parse and check one response envelope (`-` reads standard input).
    Parse {
        /// The transaction number (e.g. 2207).
        #[arg(long)]
        infno: String,
        file: PathBuf,
    },
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    match a.cmd {
        NhsaCmd::Parse { infno, file } => {
            let body = if file.as_os_str() == "-" {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)?;
                v
            } else {
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?
            };
            match nhsa::inspect::inspect(&infno, &body) {
                Ok(r) => {
                    for u in &r.unchecked {
                        eprintln!("yibao nhsa parse: not checked: {u}");
                    }
                    println!("{}", serde_json::to_string_pretty(&r)?);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("yibao nhsa parse: {}: {e}", file.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}
