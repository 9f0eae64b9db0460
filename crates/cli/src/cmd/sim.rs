//! `yibao sim --listen ADDR --db FILE`: the simulated national platform.
//! The first line on standard output is `listening on http://HOST:PORT`.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = "127.0.0.1:8900")]
    pub listen: String,
    /// The simulator's own SQLite database (created with the demo persons if missing).
    #[arg(long)]
    pub db: PathBuf,
    /// Seconds between changes of a 医保码.
    #[arg(long, default_value_t = 60)]
    pub qr_period: i64,
    /// Seconds a code stays valid after its period ends.
    #[arg(long, default_value_t = 30)]
    pub qr_grace: i64,
    /// Hospital level (1, 2 or 3) for the fund ratio.
    #[arg(long, default_value_t = 2)]
    pub hosp_lv: u8,
    /// 就医地医保区划 of the hospitals served.
    #[arg(long, default_value = "440300")]
    pub admdvs: String,
    /// Benefit policy file (default: the demo region's, assets/policy/demo-policy.json).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Catalogue file (default: assets/catalog/demo-catalog.json).
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Serve the test controls (`POST /sim/fault`, `GET /sim/settlements`): for tests only.
    #[arg(long)]
    pub control: bool,
    /// Accept what a real center refuses (no registered doctor, no diagnosis, the
    /// national code as the hospital's): for training on old data, never for tests.
    #[arg(long)]
    pub lenient: bool,
    /// Put a regional gateway in front: requests must carry valid x-tif headers for
    /// this paasid and passtoken.
    #[arg(long, requires = "passtoken")]
    pub paasid: Option<String>,
    #[arg(long, env = "YIBAO_SIM_PASSTOKEN", hide_env_values = true)]
    pub passtoken: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<ExitCode> {
    let mut opts = center_sim::SimOptions {
        hospital_admdvs: a.admdvs,
        hosp_lv: a.hosp_lv,
        qr_period_secs: a.qr_period.max(1),
        qr_grace_secs: a.qr_grace.max(0),
        control: a.control,
        lenient: a.lenient,
        gateway: a.paasid.clone().zip(a.passtoken.clone()),
        ..Default::default()
    };
    if let Some(p) = a.policy {
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        opts.policy = billing::PolicyBook::from_json(&text)?;
    }
    if let Some(p) = a.catalog {
        let text =
            std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
        opts.catalog = billing::Catalog::from_json(&text).map_err(anyhow::Error::msg)?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&a.listen)
            .await
            .with_context(|| format!("cannot listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        let app = center_sim::router(&a.db, opts).await?;
        println!("listening on http://{addr}");
        std::io::stdout().flush()?;
        axum_serve(listener, app).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn axum_serve(
    listener: tokio::net::TcpListener,
    app: center_sim::Router,
) -> anyhow::Result<()> {
    center_sim::serve_router(listener, app).await
}

/// `yibao his-sim --listen ADDR`: the simulated hospital HIS (crates/his/API.md), with
/// a pending bill for each demo person (and a 门诊慢特病 one for a registered person).
/// The first line on standard output is `listening on http://HOST:PORT/his`.
#[derive(clap::Args)]
pub struct HisArgs {
    #[arg(long, default_value = "127.0.0.1:8901")]
    pub listen: String,
    /// Require this bearer token on every request.
    #[arg(long, env = "YIBAO_HIS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}

/// The demo persons as the simulated HIS's patients.
pub fn demo_patients() -> Vec<his::sim::SimPatient> {
    center_sim::persons::DEMO
        .iter()
        .map(|p| his::sim::SimPatient {
            certno: p.certno.into(),
            psn_name: p.name.into(),
            chronic: p.chronic.map(|(c, n)| (c.into(), n.into())),
        })
        .collect()
}

pub fn run_his(a: HisArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let s = his::sim::spawn(his::sim::SimOpts {
            listen: a.listen.clone(),
            token: a.token,
            patients: demo_patients(),
        })
        .await
        .with_context(|| format!("cannot listen on {}", a.listen))?;
        println!("listening on {}", s.url);
        std::io::stdout().flush()?;
        tokio::signal::ctrl_c().await?;
        s.stop().await;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
