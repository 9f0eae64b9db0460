//! One patient end to end in the real window: sign in as a cashier, the demo
//! camera plays recorded frames of a demo person's current 医保码, the bill is
//! entered from the catalog by pinyin initials, settled against the simulator,
//! the rest paid in cash with change, then refunded with a supervisor.

use std::time::Duration;

use e2e::{add_user, App, Sim};

#[tokio::test(flavor = "multi_thread")]
async fn scan_settle_pay_cash_and_refund() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let persons = sim.persons().await?;
    let person = persons
        .iter()
        // Balance 12.50: the account pays what it has and the rest is cash with change.
        .find(|p| p["scenario"] == "low_balance")
        .or_else(|| persons.first())
        .expect("the simulator lists demo persons")
        .clone();
    let psn_no = person["psn_no"].as_str().unwrap().to_string();
    let balance_before = person["balance"].clone();

    // Recorded frames: the person's current code, as the demo camera would see it.
    let frames = tempfile::tempdir()?;
    std::fs::write(frames.path().join("0001.png"), sim.qr_png(&psn_no).await?)?;

    let data = tempfile::tempdir()?;
    std::fs::create_dir_all(data.path())?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "S001", "王主管", "supervisor", "super-pass-1")?;

    let app = App::start_in(
        data,
        &[
            ("YIBAO_CENTER_URL", sim.url.clone()),
            ("YIBAO_CAMERA", format!("dir:{}", frames.path().display())),
        ],
    )
    .await?;

    app.sign_in("C001", "cashier-pass-1", "李收费").await?;

    // The camera reads the code; the person is resolved (1162 → 1101).
    let who = app.wait_text("[data-testid=person]", "余额").await?;
    assert!(who.contains("职工") || who.contains("居民"), "{who}");

    // The bill: search by pinyin initials, Enter adds the first hit.
    app.add_item("amxl", "阿莫西林").await?;
    // More lines from a bill file (the `yibao split` format), through the file picker.
    let bill = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/reference/examples/bill-B1a.json")
        .canonicalize()?;
    app.find("[data-testid=bill-import]")
        .await?
        .send_keys(bill.to_str().unwrap())
        .await?;
    app.wait_text("[data-testid=bill-lines]", "头孢克肟分散片")
        .await?;

    // Pre-settle (2206) shows the split; settle (2207).
    app.click("[data-testid=presettle]").await?;
    let split = app.wait_text("[data-testid=split]", "个人现金支付").await?;
    assert!(split.contains("医保统筹基金支付"), "{split}");
    // Why the patient pays what they pay, in either language.
    app.wait_text("[data-testid=reasons]", "余额不足").await?;
    app.click("[data-testid=lang-switch]").await?;
    app.wait_text("[data-testid=reasons]", "balance short")
        .await?;
    app.click("[data-testid=lang-switch]").await?;
    app.wait_text("[data-testid=reasons]", "余额不足").await?;
    app.click("[data-testid=settle]").await?;

    // Pay the rest in cash (or nothing is due when the account covered it).
    let stage_done = app
        .client
        .find(fantoccini::Locator::Css("[data-testid=done]"))
        .await
        .is_ok();
    if !stage_done {
        let due = app.text("[data-testid=due]").await?;
        let due: f64 = due.trim_start_matches('¥').parse().unwrap_or(0.0);
        let given = (due + 100.0).floor();
        app.type_into("[data-testid=cash-given]", &format!("{given:.0}"))
            .await?;
        // The change appears as soon as the amount is typed (digits with a decimal point).
        let preview = app.wait_text("[data-testid=change-preview]", ".").await?;
        assert!(!preview.contains('—'), "change preview {preview}");
        app.find("[data-testid=cash-given]")
            .await?
            .send_keys("\u{E007}")
            .await?;
        let change = app.wait_text("[data-testid=change]", "¥").await?;
        let expect = format!("¥{:.2}", given - due);
        assert_eq!(change.trim(), expect, "change shown");
    }
    let done = app.wait_text("[data-testid=done]", "收费完成").await?;
    let setl_id = app.text("[data-testid=setl-id]").await?;
    assert!(!setl_id.is_empty(), "{done}");
    app.screenshot("checkout-done").await?;
    // The hands stay on the keyboard: Enter (or Esc) starts the next patient.
    let focused = app
        .client
        .execute(
            "return document.activeElement && document.activeElement.dataset.testid",
            vec![],
        )
        .await?;
    assert_eq!(focused, serde_json::json!("next-patient"));

    // Refund from the history screen with a supervisor's confirmation.
    app.click("[data-testid=nav-history]").await?;
    app.click(&format!("tr[data-setl='{setl_id}'] [data-testid=refund]"))
        .await?;
    app.type_into("[data-testid=sup-id]", "S001").await?;
    app.type_into("[data-testid=sup-password]", "super-pass-1")
        .await?;
    app.click("[data-testid=refund-confirm]").await?;
    app.wait_text("[data-testid=history-message]", "退费")
        .await?;

    // The center restored the balance.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let after = sim.persons().await?;
    let p = after
        .iter()
        .find(|p| p["psn_no"] == psn_no.as_str())
        .unwrap();
    assert_eq!(
        p["balance"], balance_before,
        "balance restored after refund"
    );

    app.close().await
}

/// The center cannot be reached: the cashier still bills the patient, collects
/// offline, and the settlement waits in the queue.
#[tokio::test(flavor = "multi_thread")]
async fn the_center_is_down_and_the_counter_keeps_taking_patients() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let app = App::start_in(
        data,
        &[
            ("YIBAO_CENTER_URL", format!("http://127.0.0.1:{port}")),
            ("YIBAO_CAMERA", "none".to_string()),
        ],
    )
    .await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;

    // Manual ID entry: the center does not answer.
    app.type_into("[data-testid=id-input]", "44030519850312001X")
        .await?;
    app.enter("[data-testid=id-name]", "张伟").await?;
    let err = app
        .wait_text("[data-testid=checkout-error]", "医保中心")
        .await?;
    assert!(err.contains("离线"), "the error says what to do: {err}");

    // The bill can still be entered, and collected offline.
    app.add_item("amxl", "阿莫西林").await?;
    app.wait_text("[data-testid=offline]", "离线").await?;
    app.type_into("[data-testid=offline-cert]", "44030519850312001X")
        .await?;
    app.enter("[data-testid=offline-given]", "100").await?;
    let done = app.wait_text("[data-testid=done]", "排队").await?;
    assert!(done.contains("离线"), "{done}");

    // The settlement waits in the queue with its last error.
    app.click("[data-testid=nav-queue]").await?;
    app.wait_text("[data-testid=queue]", "离线医保结算").await?;
    app.screenshot("queue-offline").await?;
    app.close().await
}

/// A partial refund from the history screen: the patient keeps one line; the
/// whole settlement is cancelled and the kept line is settled again.
#[tokio::test(flavor = "multi_thread")]
async fn a_partial_refund_keeps_the_ticked_lines() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "S001", "王主管", "supervisor", "super-pass-1")?;
    let app = App::start_at(data, &sim).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    // 张伟 by 身份证; two lines.
    app.enter("[data-testid=id-input]", "44030519850312001X")
        .await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    app.add_item("amxl", "阿莫西林").await?;
    app.add_item("xcg", "血常规").await?;
    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;
    app.click("[data-testid=settle]").await?;
    // Settled: either done (the account paid it all) or cash is due.
    app.finish_in_cash("1000").await?;
    let setl_id = app.text("[data-testid=setl-id]").await?;
    app.click("[data-testid=next-patient]").await?;

    app.click("[data-testid=nav-history]").await?;
    app.click(&format!("tr[data-setl='{setl_id}'] [data-testid=refund]"))
        .await?;
    app.click("[data-testid=keep-0]").await?;
    app.screenshot("history-partial-refund").await?;
    app.type_into("[data-testid=sup-id]", "S001").await?;
    app.type_into("[data-testid=sup-password]", "super-pass-1")
        .await?;
    app.click("[data-testid=refund-confirm]").await?;
    // The kept line is settled again on the checkout screen.
    let lines = app
        .wait_text("[data-testid=bill-lines]", "阿莫西林")
        .await?;
    assert!(!lines.contains("血常规"), "{lines}");
    let total = app.text("[data-testid=bill-total]").await?;
    assert_eq!(total.trim(), "25.00", "one 阿莫西林 at 25.00 kept");
    app.close().await
}

/// A USB scanner types like a keyboard, fast, ending in Enter. With the cursor in the
/// 身份证 field, the burst is read as a scan: the patient is resolved from the code and
/// none of its characters land in the field.
#[tokio::test(flavor = "multi_thread")]
async fn a_usb_scanner_is_read_wherever_the_focus_is() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let psn = sim.psn_of("normal_employee").await?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    let app = App::start_at(data, &sim).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    let id_input = app.find("[data-testid=id-input]").await?;
    id_input.click().await?;
    let code = sim.qr_text(&psn).await?;
    id_input.send_keys(&format!("{code}\u{E007}")).await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    let typed = app
        .client
        .execute(
            "return document.querySelector('[data-testid=id-input]').value",
            vec![],
        )
        .await?;
    assert_eq!(
        typed,
        serde_json::json!(""),
        "the scan did not land in the field"
    );
    app.close().await
}

/// The errors a counter meets, in the window, each with what to do: a WeChat payment
/// code instead of the 医保码, and a code that is not activated.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_and_unactivated_codes_say_what_to_do() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let psn = sim.psn_of("not_activated").await?;
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    let app = App::start_at(data, &sim).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;

    // A WeChat payment code (18 digits starting 13) typed by the scanner.
    let qr = app.find("[data-testid=qr-input]").await?;
    qr.send_keys("134567890123456789\u{E007}").await?;
    let err = app
        .wait_text("[data-testid=checkout-error]", "微信付款码")
        .await?;
    assert!(err.contains("医保码"), "{err}");

    // A 医保码 whose voucher is not activated: activate it, or use the 身份证 (F3).
    let code = sim.qr_text(&psn).await?;
    app.enter("[data-testid=qr-input]", &code).await?;
    let err = app
        .wait_text("[data-testid=checkout-error]", "尚未激活")
        .await?;
    assert!(err.contains("F3"), "{err}");
    let code_attr = app
        .find("[data-testid=checkout-error]")
        .await?
        .attr("data-code")
        .await?;
    assert_eq!(code_attr.as_deref(), Some("not_activated"));
    app.close().await
}
