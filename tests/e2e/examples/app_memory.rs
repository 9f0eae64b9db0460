//! Resident memory of the running app at the counter: signed in on the checkout
//! screen, the demo camera showing one demo patient after another (frames decoded
//! and previewed), each patient resolved through the built-in simulated center and
//! sent away with Esc. Sampled after 15 s and after the run.
//!
//! `cargo build -p yibao-app && xvfb-run -a cargo run -p e2e --example app_memory -- 300`
use std::time::{Duration, Instant};

use e2e::{app_pid, rss_kb, App};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let app = App::start(&[("YIBAO_CAMERA", "demo".to_string())]).await?;
    app.wait_text("[data-testid=signin-form]", "创建主管账户")
        .await?;
    app.type_into("[data-testid=signin-operator]", "S001")
        .await?;
    app.type_into("[data-testid=signin-name]", "测量").await?;
    app.type_into("[data-testid=signin-password]", "measure-pass-1")
        .await?;
    app.type_into("[data-testid=signin-password2]", "measure-pass-1")
        .await?;
    app.click("[data-testid=signin-submit]").await?;
    app.wait_text("[data-testid=operator]", "测量").await?;
    let pid = app_pid(app.data_dir.path())?;

    let start = Instant::now();
    let mut patients = 0u32;
    let mut early = None;
    while start.elapsed() < Duration::from_secs(secs + 15) {
        if early.is_none() && start.elapsed() >= Duration::from_secs(15) {
            early = Some(rss_kb(pid));
        }
        // A patient resolved: send them away, the camera takes the next one.
        if app
            .client
            .find(fantoccini::Locator::Css("[data-testid=person]"))
            .await
            .is_ok()
        {
            patients += 1;
            app.client
                .active_element()
                .await?
                .send_keys("\u{E00C}")
                .await?;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let late = rss_kb(pid);
    let (a_own, a_all) = early.unwrap_or(late);
    let mb = |kb: u64| format!("{:.0} MB", kb as f64 / 1024.0);
    println!(
        "| resident memory at the counter (demo camera, {patients} patients resolved) | after 15 s | after {} s |",
        secs + 15
    );
    println!("|---|---|---|");
    println!(
        "| the app's Rust process (debug build) | {} | {} |",
        mb(a_own),
        mb(late.0)
    );
    println!(
        "| with its WebKit processes | {} | {} |",
        mb(a_all),
        mb(late.1)
    );
    app.close().await
}
