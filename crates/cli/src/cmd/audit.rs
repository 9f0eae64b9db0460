use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}
#[derive(clap::Args)]
pub struct UserArgs {}

pub fn run(_a: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yibao audit` is not built yet")
}
pub fn run_user(_a: UserArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`yibao user` is not built yet")
}
