//! The finance screen in the real window (issue "The hospital, not one counter"): a
//! finance account signs in and lands on the day's figures — totals equal to what the
//! counter settled (made by the headless `yibao checkout` on the same ledger, against
//! the simulator), the shares and the settlements-per-hour chart drawn from them — and
//! exports the CSV for finance; a cashier is refused the institution's figures.

use e2e::{add_user, App, Sim};

/// "34.00" → 3400 fen.
fn fen(s: &str) -> i64 {
    let (y, f) = s.split_once('.').unwrap_or((s, "0"));
    let neg = y.starts_with('-');
    let v = y.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + format!("{f:0<2}")[..2].parse::<i64>().unwrap();
    if neg {
        -v
    } else {
        v
    }
}

fn yuan(f: i64) -> String {
    format!("{}.{:02}", f / 100, f % 100)
}

#[tokio::test(flavor = "multi_thread")]
async fn finance_sees_the_days_figures_and_charts_and_exports_them() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "F001", "周财务", "finance", "finance-pass-1")?;
    e2e::import_dictionaries(data.path())?;
    let (mut medfee, mut cash, mut card, mut n) = (0i64, 0i64, 0i64, 0i64);
    for (scenario, pay) in [
        ("normal_employee", "cash"),
        ("resident", "card"),
        ("low_balance", "cash"),
    ] {
        let v = e2e::cli_checkout(data.path(), &sim, scenario, pay).await?;
        n += 1;
        medfee += fen(v["split"]["medfee_sumamt"].as_str().unwrap());
        for p in v["payments"].as_array().expect("payments") {
            match p["channel"].as_str() {
                Some("cash") => cash += fen(p["amount"].as_str().unwrap()),
                Some("card") => card += fen(p["amount"].as_str().unwrap()),
                _ => {}
            }
        }
    }

    let app = App::start_at(data, &sim).await?;
    // A cashier is refused the institution's figures.
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    app.click("[data-testid=nav-finance]").await?;
    app.wait_text("[role=alert]", "无权").await?;
    app.click("[data-testid=signout]").await?;

    // Finance lands on its screen with the day's figures.
    app.sign_in("F001", "finance-pass-1", "周财务").await?;
    app.wait_text("[data-testid=fin-source]", "本收费台")
        .await?;
    assert_eq!(
        app.text("[data-testid=fin-checkouts]").await?,
        n.to_string()
    );
    assert_eq!(
        app.text("[data-testid=fin-medfee]").await?,
        format!("¥{}", yuan(medfee))
    );
    assert_eq!(
        app.text("[data-testid=fin-cash]").await?,
        format!("¥{}", yuan(cash))
    );
    assert_eq!(
        app.text("[data-testid=fin-card]").await?,
        format!("¥{}", yuan(card))
    );
    // The per-hour chart has the settlements in their hour; the shares are drawn.
    let bars = app
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=chart-hours] rect"))
        .await?;
    let mut drawn = 0;
    for b in &bars {
        drawn += b
            .attr("data-count")
            .await?
            .unwrap_or_default()
            .parse::<i64>()
            .unwrap_or(0);
    }
    assert_eq!(drawn, n, "every settlement is in its hour's bar");
    let shares = app
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=chart-shares] rect"))
        .await?;
    assert_eq!(shares.len(), 5);
    let cash_w: f64 = app
        .find("[data-testid=chart-shares] rect[data-share=cash]")
        .await?
        .attr("width")
        .await?
        .unwrap_or_default()
        .parse()?;
    assert!(cash_w > 0.0, "cash has its share");

    // F9 exports the CSV.
    app.find("[data-testid=fin-day]")
        .await?
        .send_keys("\u{E039}")
        .await?;
    let shown = app.wait_text("[data-testid=fin-exported]", ".csv").await?;
    let path = shown
        .split_once('：')
        .or_else(|| shown.split_once(": "))
        .map(|(_, p)| p.trim().to_string())
        .unwrap_or_default();
    let csv = std::fs::read_to_string(&path)?;
    assert!(csv.starts_with('\u{feff}'), "a BOM for Excel");
    assert!(csv.contains("合计"), "{csv}");
    assert!(csv.contains(&format!("合计,{n},{}", yuan(medfee))), "{csv}");
    app.close().await
}

/// The same screen over the institution's hub on a real PostgreSQL: the counter (its hub
/// key in `YIBAO_HUB_KEY`) pushes its ledger in the background, and finance sees the
/// hub's figures for the enrolled counter.
#[tokio::test(flavor = "multi_thread")]
async fn finance_sees_the_hubs_figures() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let hub = e2e::HubCluster::start()?;
    let key = hub.enroll("C01")?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "F001", "周财务", "finance", "finance-pass-1")?;
    e2e::import_dictionaries(data.path())?;
    let v = e2e::cli_checkout(data.path(), &sim, "resident", "card").await?;
    let medfee = v["split"]["medfee_sumamt"].as_str().unwrap().to_string();

    let mut env = sim.app_env().to_vec();
    env.push(("YIBAO_HUB_URL", hub.url.clone()));
    env.push(("YIBAO_HUB_KEY", key));
    let app = App::start_in(data, &env).await?;
    app.sign_in("F001", "finance-pass-1", "周财务").await?;
    // The app pushes at start; ask again until the hub has the counter's facts.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        app.click("[data-testid=fin-run]").await?;
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let src = app
            .text("[data-testid=fin-source]")
            .await
            .unwrap_or_default();
        let n = app
            .text("[data-testid=fin-checkouts]")
            .await
            .unwrap_or_default();
        if src.contains("医院中心库") && n == "1" {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the hub never showed the counter's settlement: {src} / {n}"
        );
    }
    assert_eq!(
        app.text("[data-testid=fin-medfee]").await?,
        format!("¥{medfee}")
    );
    app.wait_text("[data-testid=fin-counters]", "C01").await?;
    app.close().await
}
