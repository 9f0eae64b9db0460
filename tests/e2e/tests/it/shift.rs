//! Shifts (交班) in the real window (issue "The hospital, not one counter"): a cashier
//! opens the counter's shift with a float and puts change in, settles a patient, hands
//! the counter to the next cashier (who signs in with their own password at the
//! handover), who settles another; the blind close one yuan short shows 短款 ¥1.00, and
//! the 交班单 PDF the window kept is read back by rendering it.

use std::process::Command;

use e2e::{add_user, App, Sim};

/// "34.00" → 3400 fen.
fn fen(s: &str) -> i64 {
    let (y, f) = s.split_once('.').unwrap_or((s, "0"));
    y.parse::<i64>().unwrap() * 100 + format!("{f:0<2}")[..2].parse::<i64>().unwrap()
}

fn yuan(f: i64) -> String {
    format!("{}.{:02}", f / 100, f % 100)
}

/// Scan the patient's code (the USB scanner's path), bill one item, settle, pay in cash.
async fn settle_one(app: &App, sim: &Sim, scenario: &str) -> anyhow::Result<()> {
    app.click("[data-testid=nav-checkout]").await?;
    let psn = sim.psn_of(scenario).await?;
    app.enter("[data-testid=qr-input]", &sim.qr_text(&psn).await?)
        .await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    app.add_item("amxl", "阿莫西林").await?;
    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;
    app.click("[data-testid=settle]").await?;
    app.finish_in_cash("200").await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shift_with_a_handover_closes_one_yuan_short_and_prints_the_sheet() -> anyhow::Result<()>
{
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "C002", "赵收费", "cashier", "cashier-pass-2")?;
    e2e::import_dictionaries(data.path())?;
    let app = App::start_at(data, &sim).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;

    // Open with a 500 yuan float and put 50 yuan of change in.
    app.click("[data-testid=nav-shift]").await?;
    app.enter("[data-testid=shift-float]", "500").await?;
    app.wait_text("[data-testid=shift-on-duty]", "C001").await?;
    app.type_into("[data-testid=shift-cash-amount]", "50")
        .await?;
    app.enter("[data-testid=shift-cash-note]", "补零钱").await?;
    app.wait_text("[data-testid=shift-events]", "补零钱")
        .await?;

    settle_one(&app, &sim, "resident").await?;

    // The handover: a wrong password is refused and changes nothing.
    app.click("[data-testid=nav-shift]").await?;
    app.type_into("[data-testid=ho-to]", "C002").await?;
    app.type_into("[data-testid=ho-password]", "wrong-pass")
        .await?;
    app.type_into("[data-testid=ho-counted]", "560").await?;
    app.click("[data-testid=ho-submit]").await?;
    app.wait_text("[role=alert]", "密码").await?;
    assert!(app.text("[data-testid=operator]").await?.contains("李收费"));
    app.type_into("[data-testid=ho-password]", "cashier-pass-2")
        .await?;
    app.click("[data-testid=ho-submit]").await?;
    app.wait_text("[data-testid=operator]", "赵收费").await?;
    app.wait_text("[data-testid=shift-on-duty]", "C002").await?;
    app.wait_text("[data-testid=shift-events]", "C001 → C002")
        .await?;

    settle_one(&app, &sim, "low_balance").await?;

    // The blind close, one yuan short of what the ledger expects.
    let cash: i64 = sim
        .settlements()
        .await?
        .iter()
        .map(|s| fen(s["psn_cash_pay"].as_str().unwrap()))
        .sum();
    assert!(cash > 0, "the residents paid something in cash");
    let expected = 50_000 + 5_000 + cash; // the float and the change put in, in fen
    app.click("[data-testid=nav-shift]").await?;
    // Typed, then submitted with the button: six characters and Enter at WebDriver's
    // speed look like a USB scanner's burst (ui/src/lib/wedge.ts).
    app.type_into("[data-testid=close-counted]", &yuan(expected - 100))
        .await?;
    app.click("[data-testid=close-submit]").await?;
    app.wait_text("[data-testid=shift-variance]", "短款 ¥1.00")
        .await?;
    let sheet = app.text("[data-testid=shift-report]").await?;
    for needle in ["收费员 C001", "收费员 C002", "应有现金", "短款"] {
        assert!(sheet.contains(needle), "{needle} in {sheet}");
    }
    assert!(
        sheet.contains(&format!("¥{}", yuan(expected))),
        "expected cash ¥{} in {sheet}",
        yuan(expected)
    );

    // The PDF the window kept, rendered: its text and a page that is not blank.
    let shown = app.text("[data-testid=shift-pdf]").await?;
    let path = shown
        .split_once('：')
        .map(|(_, p)| p.trim().to_string())
        .unwrap_or_default();
    assert!(path.ends_with(".pdf"), "{shown}");
    let out = Command::new("pdftotext")
        .args(["-layout", &path, "-"])
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in ["收费员交班单", "C001", "C002", "短款", "交接"] {
        assert!(text.contains(needle), "{needle} in the PDF:\n{text}");
    }
    let png = tempfile::tempdir()?;
    let st = Command::new("pdftoppm")
        .args(["-png", "-r", "50", "-singlefile", &path])
        .arg(png.path().join("sheet"))
        .status()?;
    assert!(st.success());
    let img = image::open(png.path().join("sheet.png"))?.to_rgba8();
    assert!(!e2e::is_blank(&img), "the rendered 交班单 has ink");
    app.close().await
}
