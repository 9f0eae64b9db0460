//! Foundation: the window opens on sign-in in Chinese, the first supervisor is
//! created, the navigation shows the five real screens, and the text renders
//! with real Chinese glyphs (no missing-glyph boxes) in a non-blank window.

use e2e::{is_blank, App, MISSING_GLYPH_PROBE};

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_shows_navigation_in_chinese() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    // A camera setting that names a device this machine does not have: the "no camera" state.
    let app = App::start(&[("YIBAO_CAMERA", "device:9".to_string())]).await?;

    // A new counter has no accounts: the first-run form asks for a supervisor.
    app.wait_text("[data-testid=signin-form]", "创建主管账户")
        .await?;
    app.type_into("[data-testid=signin-operator]", "S001")
        .await?;
    app.type_into("[data-testid=signin-name]", "王主管").await?;
    app.type_into("[data-testid=signin-password]", "correct-horse-1")
        .await?;
    app.type_into("[data-testid=signin-password2]", "correct-horse-1")
        .await?;
    app.click("[data-testid=signin-submit]").await?;

    // Signed in: the operator and the navigation of the real screens.
    let who = app.wait_text("[data-testid=operator]", "王主管").await?;
    assert!(who.contains("主管"), "{who}");
    let nav = app.text("[data-testid=nav]").await?;
    for label in ["收费", "记录", "离线队列", "日结对账", "设置"] {
        assert!(nav.contains(label), "navigation lacks {label}: {nav}");
    }

    // Chinese glyphs render (no box looks like the missing-glyph box).
    let boxes = app
        .client
        .execute(
            MISSING_GLYPH_PROBE,
            vec![serde_json::json!("医保收银台收费记录离线队列日结对账设置")],
        )
        .await?;
    assert_eq!(boxes, serde_json::json!(0), "Chinese text renders as boxes");

    // A log file for hospital IT, in the data directory.
    let logs: Vec<_> = std::fs::read_dir(app.data_dir.path().join("logs"))?
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(
        logs.iter().any(|l| l.contains("started")),
        "no log file with the start-up line: {logs:?}"
    );

    let shot = app.screenshot("foundation-signed-in").await?;
    assert!(!is_blank(&shot), "the window screenshot is blank");

    // English is one click away, and back.
    app.click("[data-testid=lang-switch]").await?;
    app.wait_text("[data-testid=nav]", "Checkout").await?;
    app.click("[data-testid=lang-switch]").await?;
    app.wait_text("[data-testid=nav]", "收费").await?;

    // The supervisor adds a cashier in the settings.
    app.click("[data-testid=nav-settings]").await?;
    app.wait_text("[data-testid=users]", "S001").await?;
    app.type_into("[data-testid=user-id]", "C002").await?;
    app.type_into("[data-testid=user-name]", "赵收费").await?;
    app.enter("[data-testid=user-password]", "cashier-pass-2")
        .await?;
    app.wait_text("[data-testid=users]", "赵收费").await?;
    app.click("[data-testid=nav-checkout]").await?;
    // No camera: the checkout screen says so and offers the scanner and manual entry.
    let cam = app
        .wait_text("[data-testid=camera-state]", "未检测到摄像头")
        .await?;
    let page = app.text("[data-testid=camera]").await?;
    assert!(
        page.contains("扫码枪") && page.contains("F3"),
        "{cam} / {page}"
    );
    // The same state in English, and back.
    app.click("[data-testid=lang-switch]").await?;
    let cam_en = app
        .wait_text("[data-testid=camera-state]", "No camera found")
        .await?;
    let page_en = app.text("[data-testid=camera]").await?;
    assert!(page_en.contains("USB scanner"), "{cam_en} / {page_en}");
    app.click("[data-testid=lang-switch]").await?;
    app.wait_text("[data-testid=camera-state]", "未检测到摄像头")
        .await?;

    // Sign out, then a wrong password is refused with a clear message, the right one works.
    app.click("[data-testid=signout]").await?;
    app.wait_text("[data-testid=signin-form]", "收费员签到")
        .await?;
    app.type_into("[data-testid=signin-operator]", "S001")
        .await?;
    app.type_into("[data-testid=signin-password]", "wrong-password")
        .await?;
    app.click("[data-testid=signin-submit]").await?;
    let err = app.wait_text("[data-testid=signin-error]", "密码").await?;
    assert!(!err.is_empty());
    // In English the error is in English, with the Chinese original (and its count) kept.
    app.click("[data-testid=lang-switch]").await?;
    let err_en = app
        .wait_text(
            "[data-testid=signin-error]",
            "Sign-in or authorisation refused",
        )
        .await?;
    assert!(err_en.contains("工号或密码不正确"), "{err_en}");
    app.click("[data-testid=lang-switch]").await?;
    app.type_into("[data-testid=signin-password]", "correct-horse-1")
        .await?;
    app.click("[data-testid=signin-submit]").await?;
    app.wait_text("[data-testid=operator]", "王主管").await?;

    app.close().await
}

/// A damaged ledger file: the window says so and what to do; the file is not touched.
#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_ledger_is_reported_and_left_alone() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let data = tempfile::tempdir()?;
    let ledger = data.path().join("ledger.db");
    std::fs::write(
        &ledger,
        b"this is not a database, it is a spreadsheet export",
    )?;
    let before = std::fs::read(&ledger)?;
    let app = e2e::App::start_in(data, &[]).await?;
    let text = app
        .wait_text("[data-testid=startup-error]", "无法启动")
        .await?;
    assert!(text.contains("信息科"), "{text}");
    assert_eq!(
        std::fs::read(&ledger)?,
        before,
        "the damaged file is left as it was"
    );
    app.close().await
}
