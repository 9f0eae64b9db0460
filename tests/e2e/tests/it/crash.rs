//! The app is killed (SIGKILL) while the center is settling — the 2207 has been
//! processed by the center but its answer has not arrived. After a restart the same
//! patient is back on the screen, the lost settlement has been reversed (2601), and
//! settling again leaves exactly one settlement at the center.

use std::time::{Duration, Instant};

use e2e::{add_user, App, Sim};

const PSN_CERTNO: &str = "44030519850312001X";

/// The center's settlements of one person that stand (not cancelled, not reversed).
async fn standing(sim: &Sim, psn_no: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    Ok(sim
        .settlements()
        .await?
        .into_iter()
        .filter(|s| s["psn_no"] == psn_no && s["kind"] == "settle" && s["state"] == "valid")
        .collect())
}

async fn wait_for(
    what: &str,
    mut ok: impl AsyncFnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok().await? {
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_killed_while_settling_charges_once_after_a_restart() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let psn_no = sim
        .persons()
        .await?
        .iter()
        .find(|p| p["certno"] == PSN_CERTNO)
        .and_then(|p| p["psn_no"].as_str())
        .expect("demo person")
        .to_string();
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    let env = sim.app_env();
    let app = App::start_in(data, &env).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    app.enter("[data-testid=id-input]", PSN_CERTNO).await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    app.add_item("xcg", "血常规").await?;
    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;

    // The center settles, then does not answer; the app dies while it waits.
    sim.fault(serde_json::json!({"infno": "2207", "mode": "hang_after", "delay_ms": 60000}))
        .await?;
    app.click("[data-testid=settle]").await?;
    wait_for("the center to settle", async || {
        Ok(standing(&sim, &psn_no).await?.len() == 1)
    })
    .await?;
    let app = app.kill_and_restart(&env).await?;

    // Signed in again: the same patient and bill are back; the lost 2207 is reversed.
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    app.wait_text("[data-testid=bill-lines]", "血常规").await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    wait_for("the reversal (2601)", async || {
        Ok(standing(&sim, &psn_no).await?.is_empty())
    })
    .await?;
    let reversed = sim
        .settlements()
        .await?
        .iter()
        .filter(|s| s["psn_no"] == psn_no.as_str() && s["state"] == "reversed")
        .count();
    assert_eq!(reversed, 1, "the lost settlement was reversed");

    // Settle again: once, and the patient pays.
    wait_for("the settle button", async || {
        Ok(app.find("[data-testid=settle]").await?.is_enabled().await?)
    })
    .await?;
    app.click("[data-testid=settle]").await?;
    app.finish_in_cash("1000").await?;
    let setl_id = app.text("[data-testid=setl-id]").await?;
    let stand = standing(&sim, &psn_no).await?;
    assert_eq!(stand.len(), 1, "exactly one settlement stands: {stand:?}");
    assert_eq!(stand[0]["setl_id"], setl_id.trim());
    app.close().await
}

/// The app dies after the settlement, before the patient's cash part is collected,
/// and another cashier takes the counter: the history screen offers to collect the
/// rest, and the patient pays once.
#[tokio::test(flavor = "multi_thread")]
async fn a_settled_unpaid_patient_is_collected_by_the_next_cashier() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let psn = sim.psn_of("low_balance").await?;
    let certno = sim
        .persons()
        .await?
        .iter()
        .find(|p| p["psn_no"] == psn.as_str())
        .and_then(|p| p["certno"].as_str())
        .expect("certno")
        .to_string();
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "C002", "赵收费", "cashier", "cashier-pass-2")?;
    let env = sim.app_env();
    let app = App::start_in(data, &env).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    app.enter("[data-testid=id-input]", &certno).await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    app.add_item("amxl", "阿莫西林").await?;
    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;
    app.click("[data-testid=settle]").await?;
    let due = app.wait_text("[data-testid=due]", "¥").await?;
    assert_ne!(due.trim(), "¥0.00");

    // The app dies; another cashier signs in: an empty counter, the history offers the rest.
    let app = app.kill_and_restart(&env).await?;
    app.sign_in("C002", "cashier-pass-2", "赵收费").await?;
    app.click("[data-testid=nav-history]").await?;
    app.wait_text("[data-testid=resume]", "继续收款").await?;
    app.click("[data-testid=resume]").await?;
    let due_again = app.wait_text("[data-testid=due]", "¥").await?;
    assert_eq!(due_again.trim(), due.trim(), "the same amount is due");
    app.finish_in_cash("100").await?;
    let stand = standing(&sim, &psn).await?;
    assert_eq!(stand.len(), 1, "one settlement: {stand:?}");
    app.close().await
}
