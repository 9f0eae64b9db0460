//! End of day in the real window: the day's settlements (made by the headless
//! `yibao checkout` on the same ledger, against the simulator) are checked
//! against the center (3201), the cash drawer and the card terminal; a counted
//! drawer that is one yuan short is shown as 短款, and in English as "short".

use e2e::{add_user, App, Sim};

/// "34.00" → 3400 fen.
fn fen(s: &str) -> i64 {
    let (y, f) = s.split_once('.').unwrap_or((s, "0"));
    y.parse::<i64>().unwrap() * 100 + format!("{f:0<2}")[..2].parse::<i64>().unwrap()
}

fn yuan(f: i64) -> String {
    format!("{}.{:02}", f / 100, f % 100)
}

#[tokio::test(flavor = "multi_thread")]
async fn end_of_day_balances_with_the_center_the_drawer_and_the_card_terminal() -> anyhow::Result<()>
{
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    e2e::import_dictionaries(data.path())?;
    // Two patients: one pays the rest in cash, one by card.
    let (mut cash, mut card) = (0i64, 0i64);
    for (scenario, pay) in [("normal_employee", "cash"), ("resident", "card")] {
        let v = e2e::cli_checkout(data.path(), &sim, scenario, pay).await?;
        for p in v["payments"].as_array().expect("payments") {
            match p["channel"].as_str() {
                Some("cash") => cash += fen(p["amount"].as_str().unwrap()),
                Some("card") => card += fen(p["amount"].as_str().unwrap()),
                _ => {}
            }
        }
    }
    assert!(cash > 0 && card > 0, "cash {cash} card {card}");

    let app = App::start_at(data, &sim).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;

    // The drawer holds the float and the day's cash; the terminal's report, the card total.
    app.click("[data-testid=nav-reconcile]").await?;
    app.type_into("[data-testid=rec-float]", "100").await?;
    app.type_into("[data-testid=rec-cash]", &yuan(10_000 + cash))
        .await?;
    app.type_into("[data-testid=rec-card]", &yuan(card)).await?;
    app.click("[data-testid=rec-run]").await?;
    app.wait_text("[data-testid=rec-center]", "平").await?;
    let expected = app.text("[data-testid=rec-cash-expected]").await?;
    assert_eq!(expected, format!("¥{}", yuan(10_000 + cash)));
    app.wait_text("[data-testid=rec-cash-variance]", "平")
        .await?;
    let page = app.text("[data-testid=reconcile]").await?;
    assert!(
        page.contains("310") && page.contains("390"),
        "both 险种 groups: {page}"
    );

    // One yuan missing from the drawer: 短款 ¥1.00.
    app.type_into("[data-testid=rec-cash]", &yuan(10_000 + cash - 100))
        .await?;
    app.click("[data-testid=rec-run]").await?;
    app.wait_text("[data-testid=rec-cash-variance]", "短款 ¥1.00")
        .await?;
    app.screenshot("reconcile-short").await?;

    // The report for finance: a CSV file that Excel opens (UTF-8 with BOM).
    app.click("[data-testid=rec-export]").await?;
    let shown = app.wait_text("[data-testid=rec-exported]", ".csv").await?;
    let reports = app.data_dir.path().join("reports");
    let file = std::fs::read_dir(&reports)?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "csv"))
        .expect("a report file");
    assert!(shown.contains(&*file.to_string_lossy()), "{shown}");
    let text = std::fs::read_to_string(&file)?;
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    for want in [
        "日结对账单",
        "310",
        "390",
        "对账平",
        &yuan(10_000 + cash - 100),
        "-1.00",
    ] {
        assert!(text.contains(want), "report lacks {want}:\n{text}");
    }

    // The same screen in English.
    app.click("[data-testid=lang-switch]").await?;
    app.wait_text("[data-testid=rec-cash-variance]", "short ¥1.00")
        .await?;
    app.wait_text("[data-testid=rec-center]", "balanced")
        .await?;
    app.click("[data-testid=lang-switch]").await?;

    app.close().await
}
