//! `yibao` — the headless command line of Yibao Counter.
//!
//! Each subcommand lives in its own module under `cmd/` and calls the domain
//! crates; nothing here knows about Tauri or the webview. Command names,
//! arguments and output formats are a contract with hospital scripts: keep them.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(
    name = "yibao",
    version,
    about = "Yibao Counter (医保收银台) — headless commands"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once per process: the size of the largest arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Split a bill into fund, account and self-pay parts (prints JSON).
    Split(cmd::split::Args),
    /// National platform interface tools (parse a response envelope, …).
    Nhsa(cmd::nhsa::Args),
    /// Run the simulated national platform (center) over HTTP.
    Sim(cmd::sim::Args),
    /// Run the simulated hospital HIS (pending orders, paid and refunded notices).
    HisSim(cmd::sim::HisArgs),
    /// Decode QR codes in image files (one JSON line per file).
    Decode(cmd::decode::Args),
    /// Build (and optionally print) a receipt PDF for a settlement.
    Receipt(cmd::receipt::Args),
    /// Run one checkout headless, from QR text and a bill file to paid.
    Checkout(cmd::checkout::CheckoutArgs),
    /// Resolve in-doubt calls to the center (2601 reversal or lookup).
    Recover(cmd::checkout::RecoverArgs),
    /// The offline queue: status or sync.
    Queue(cmd::checkout::QueueArgs),
    /// Refund a settlement (2208) with a supervisor; `--keep` makes it partial (cancel and re-settle).
    Refund(cmd::checkout::RefundArgs),
    /// End of day: the ledger against the center (3201/3202), the drawer and the card terminal.
    Reconcile(cmd::checkout::ReconcileArgs),
    /// The hash-chained audit log.
    Audit(cmd::audit::Args),
    /// Cashier accounts.
    User(cmd::audit::UserArgs),
    /// The institution's departments and doctors (clinic mode).
    Dict(cmd::dict::Args),
    /// The national catalogue (sync, search) and the hospital's mapping.
    Catalog(cmd::catalog::Args),
    /// The institution's hub on PostgreSQL: serve, enroll a counter, push, report.
    Hub(cmd::hub::Args),
    /// The counter's shift (交班): open with a float, cash in/out, hand over, close.
    Shift(cmd::shift::Args),
    /// Sign in for a shift: the password on standard input, a session token on standard output.
    Login(cmd::session::LoginArgs),
    /// End a session.
    Logout(cmd::session::LogoutArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("YIBAO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Split(a) => cmd::split::run(a),
        Cmd::Nhsa(a) => cmd::nhsa::run(a),
        Cmd::Sim(a) => cmd::sim::run(a),
        Cmd::HisSim(a) => cmd::sim::run_his(a),
        Cmd::Decode(a) => cmd::decode::run(a),
        Cmd::Receipt(a) => cmd::receipt::run(a),
        Cmd::Checkout(a) => cmd::checkout::run_checkout(a),
        Cmd::Recover(a) => cmd::checkout::run_recover(a),
        Cmd::Queue(a) => cmd::checkout::run_queue(a),
        Cmd::Reconcile(a) => cmd::checkout::run_reconcile(a),
        Cmd::Refund(a) => cmd::checkout::run_refund(a),
        Cmd::Audit(a) => cmd::audit::run(a),
        Cmd::User(a) => cmd::audit::run_user(a),
        Cmd::Dict(a) => cmd::dict::run(a),
        Cmd::Catalog(a) => cmd::catalog::run(a),
        Cmd::Hub(a) => cmd::hub::run(a),
        Cmd::Shift(a) => cmd::shift::run(a),
        Cmd::Login(a) => cmd::session::run_login(a),
        Cmd::Logout(a) => cmd::session::run_logout(a),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.downcast_ref::<cmd::session::Denied>().is_some() => {
            eprintln!("yibao: {e:#}");
            ExitCode::from(cmd::session::UNAUTHORIZED)
        }
        Err(e) => {
            eprintln!("yibao: {e:#}");
            ExitCode::from(1)
        }
    }
}
