//! `cargo bench -p center-sim --bench load [-- CLIENTS SECONDS]`: the load run
//! of src/load.rs against a fresh simulator on loopback; prints the figures for
//! the README.
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().filter(|a| !a.starts_with("--")).collect();
    let clients: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(60);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("sim.db");
        let addr = center_sim::spawn(
            "127.0.0.1:0",
            &db,
            center_sim::SimOptions {
                control: true,
                ..Default::default()
            },
        )
        .await?;
        let r = center_sim::load::run(
            &format!("http://{addr}"),
            &db,
            clients,
            std::time::Duration::from_secs(secs),
        )
        .await?;
        println!("{}", serde_json::to_string_pretty(&r)?);
        anyhow::ensure!(
            r.settlements_in_center as u64 == r.flows,
            "lost or doubled settlements"
        );
        anyhow::ensure!(
            r.account_moved == r.account_paid_per_answers,
            "balances do not add up"
        );
        Ok(())
    })
}
