use std::process::ExitCode;

#[derive(clap::Args)]
pub struct CheckoutArgs {}
#[derive(clap::Args)]
pub struct RecoverArgs {}
#[derive(clap::Args)]
pub struct QueueArgs {}

pub fn run_checkout(_a: CheckoutArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yibao checkout` is not built yet")
}
pub fn run_recover(_a: RecoverArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yibao recover` is not built yet")
}
pub fn run_queue(_a: QueueArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yibao queue` is not built yet")
}
