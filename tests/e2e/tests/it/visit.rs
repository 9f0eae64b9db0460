//! Issue 13 in the real window: after the scan the hospital HIS's pending orders appear
//! and are the bill; the settlement tells the HIS (paid, with the setl_id) and a refund
//! tells it too. Without a HIS (clinic mode) the cashier picks the doctor from the
//! institution's dictionary and the diagnosis from the national one — and the strict
//! simulated center accepts what the counter sends.

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use e2e::{add_user, yibao_binary, App, Sim};

/// `yibao his-sim` (the simulated HIS), killed when dropped.
struct His {
    url: String,
    child: Child,
}

impl His {
    fn start() -> anyhow::Result<His> {
        let mut child = Command::new(yibao_binary())
            .args(["his-sim", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .context("starting `yibao his-sim`")?;
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut first)?;
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .context("first line of yibao his-sim")?
            .to_string();
        Ok(His { url, child })
    }

    /// Wait until the HIS holds 张伟's bill in `state`; its JSON.
    async fn bill_in(&self, state: &str) -> anyhow::Result<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v: serde_json::Value = reqwest::get(format!("{}/_sim/bills", self.url))
                .await?
                .json()
                .await?;
            if let Some(b) = v["bills"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|b| b["bill"]["certno"] == "44030519850312001X" && b["state"] == state)
            {
                return Ok(b.clone());
            }
            if Instant::now() > deadline {
                bail!("the HIS never held the bill as {state}: {v}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for His {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn signed_in(sim: &Sim, extra: &[(&str, String)]) -> anyhow::Result<App> {
    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    add_user(data.path(), "S001", "王主管", "supervisor", "super-pass-1")?;
    let mut env = sim.app_env().to_vec();
    env.extend(extra.iter().cloned());
    let app = App::start_in(data, &env).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    let psn = sim.psn_of("normal_employee").await?;
    app.enter("[data-testid=qr-input]", &sim.qr_text(&psn).await?)
        .await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    Ok(app)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_his_orders_are_the_bill_and_the_his_hears_paid_and_refunded() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let his = His::start()?;
    let app = signed_in(&sim, &[("YIBAO_HIS", his.url.clone())]).await?;

    // The patient's pending orders appear after the scan; the cashier takes one.
    let orders = app.wait_text("[data-testid=his-orders]", "李明").await?;
    assert!(orders.contains("阿莫西林胶囊"), "{orders}");
    app.click("[data-testid=his-order]").await?;
    app.wait_text("[data-testid=bill-lines]", "血常规").await?;
    let visit = app.wait_text("[data-testid=visit-summary]", "李明").await?;
    assert!(
        visit.contains("心血管内科门诊") && visit.contains("J06.900"),
        "{visit}"
    );

    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;
    app.click("[data-testid=settle]").await?;
    app.finish_in_cash("200").await?;
    let setl_id = app.text("[data-testid=setl-id]").await?;

    // The HIS holds the bill as paid, with the setl_id.
    let paid = his.bill_in("paid").await?;
    assert_eq!(paid["setl_id"], setl_id.as_str(), "{paid}");

    // A refund tells it.
    app.click("[data-testid=nav-history]").await?;
    app.click(&format!("tr[data-setl='{setl_id}'] [data-testid=refund]"))
        .await?;
    app.type_into("[data-testid=sup-id]", "S001").await?;
    app.type_into("[data-testid=sup-password]", "super-pass-1")
        .await?;
    app.click("[data-testid=refund-confirm]").await?;
    app.wait_text("[data-testid=history-message]", "退费")
        .await?;
    let refunded = his.bill_in("refunded").await?;
    assert_eq!(refunded["setl_id"], setl_id.as_str());
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn clinic_mode_settles_with_the_doctor_the_cashier_picked() -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let app = signed_in(&sim, &[]).await?;

    // No HIS: the doctor from the dictionary, the diagnosis from the national one.
    app.find("[data-testid=visit-doctor-select]")
        .await?
        .select_by_value("D440300000002")
        .await?;
    app.pick_diagnosis("jxzqgy", "急性支气管炎").await?;
    let visit = app.text("[data-testid=visit-summary]").await?;
    assert!(
        visit.contains("王芳") && visit.contains("呼吸内科门诊"),
        "{visit}"
    );
    app.add_item("amxl", "阿莫西林").await?;
    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;
    app.click("[data-testid=settle]").await?;
    app.finish_in_cash("100").await?;
    // The strict center took it: a registered doctor, a 科别, a main diagnosis.
    let setl = sim.settlements().await?;
    assert_eq!(setl.len(), 1, "{setl:?}");
    app.close().await
}

/// Issue 14 in the real window: the center's 事前事中 analysis (3101) is shown before
/// settling — a warning, and a 明确违规 that the cashier cannot settle past; a
/// supervisor overrides it with a reason, and the audit log holds the override.
#[tokio::test(flavor = "multi_thread")]
async fn a_supervision_rule_warns_blocks_the_cashier_and_a_supervisor_overrides_it(
) -> anyhow::Result<()> {
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let data_dir;
    let app = {
        let data = tempfile::tempdir()?;
        add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
        add_user(data.path(), "S001", "王主管", "supervisor", "super-pass-1")?;
        data_dir = data.path().to_path_buf();
        let app = App::start_in(data, &sim.app_env()).await?;
        app.sign_in("C001", "cashier-pass-1", "李收费").await?;
        let psn = sim.psn_of("normal_employee").await?;
        app.enter("[data-testid=qr-input]", &sim.qr_text(&psn).await?)
            .await?;
        app.wait_text("[data-testid=person]", "余额").await?;
        app
    };
    app.pick_diagnosis("jxzqgy", "急性支气管炎").await?;
    // Twelve boxes (over the limit of ten) and a children's syrup for an adult.
    let bill = data_dir.with_extension("rules-bill.json");
    std::fs::write(
        &bill,
        serde_json::json!({"lines": [
            {"med_list_codg": "XJ01CAA040A001010100001", "name": "阿莫西林胶囊",
             "med_chrgitm_type": "09", "chrgitm_lv": "01", "cnt": "12", "pric": "25.00"},
            {"med_list_codg": "XR05CBA010A001010100007", "name": "盐酸氨溴索口服溶液",
             "med_chrgitm_type": "09", "chrgitm_lv": "02", "cnt": "1", "pric": "18.00"}]})
        .to_string(),
    )?;
    app.find("[data-testid=bill-import]")
        .await?
        .send_keys(bill.to_str().unwrap())
        .await?;
    app.wait_text("[data-testid=bill-lines]", "盐酸氨溴索口服溶液")
        .await?;
    app.click("[data-testid=presettle]").await?;
    let hits = app.wait_text("[data-testid=rule-hits]", "超量开药").await?;
    assert!(
        hits.contains("限儿童用药") && hits.contains("明确违规"),
        "{hits}"
    );

    // The cashier cannot settle past it.
    app.click("[data-testid=settle]").await?;
    app.wait_text("[data-testid=checkout-error]", "明确违规")
        .await?;
    assert!(sim.settlements().await?.is_empty());

    // The supervisor overrides it with a reason; then it settles.
    app.type_into("[data-testid=rule-sup-id]", "S001").await?;
    app.type_into("[data-testid=rule-sup-password]", "super-pass-1")
        .await?;
    app.type_into("[data-testid=rule-reason]", "医生确认两周用量")
        .await?;
    app.click("[data-testid=rule-override-confirm]").await?;
    app.wait_text("[data-testid=rules-overridden]", "主管已审核")
        .await?;
    app.click("[data-testid=settle]").await?;
    app.finish_in_cash("400").await?;
    let out = Command::new("sqlite3")
        .arg(data_dir.join("ledger.db"))
        .arg("SELECT detail_json FROM audit_log WHERE action = 'rule.override'")
        .output()?;
    let audit = String::from_utf8_lossy(&out.stdout);
    assert!(
        audit.contains("医生确认两周用量") && audit.contains("S001"),
        "{audit}"
    );
    app.close().await
}

/// 门诊慢特病 in the window: the registrations 5301 lists are offered, and only they; the
/// cashier picks 高血压 (M03900) for the registered patient, and the center's book holds a
/// med_type 14 visit with that 病种. A patient with no registration is offered none.
#[tokio::test(flavor = "multi_thread")]
async fn a_registered_chronic_disease_is_offered_and_settles_as_med_type_14() -> anyhow::Result<()>
{
    let _one_window_at_a_time = e2e::serial().await;
    let sim = Sim::start()?;
    let app = signed_in(&sim, &[]).await?;
    // normal_employee has no registration: no 慢特病 choice.
    assert!(
        app.client
            .find(fantoccini::Locator::Css("[data-testid=chronic-choice]"))
            .await
            .is_err(),
        "no registration, no choice"
    );
    app.close().await?;

    let data = tempfile::tempdir()?;
    add_user(data.path(), "C001", "李收费", "cashier", "cashier-pass-1")?;
    e2e::import_dictionaries(data.path())?;
    let app = App::start_at(data, &sim).await?;
    app.sign_in("C001", "cashier-pass-1", "李收费").await?;
    let psn = sim.psn_of("chronic_disease").await?;
    app.enter("[data-testid=qr-input]", &sim.qr_text(&psn).await?)
        .await?;
    app.wait_text("[data-testid=person]", "余额").await?;
    let choice = app
        .wait_text("[data-testid=chronic-choice]", "M03900")
        .await?;
    assert!(choice.contains("高血压"), "{choice}");
    app.find("[data-testid=chronic-choice]")
        .await?
        .select_by_value("M03900")
        .await?;
    app.pick_diagnosis("yfxgxy", "原发性高血压").await?;
    app.wait_text("[data-testid=visit-chronic]", "M03900")
        .await?;
    app.add_item("amxl", "阿莫西林").await?;
    app.click("[data-testid=presettle]").await?;
    app.wait_text("[data-testid=split]", "个人现金支付").await?;
    app.click("[data-testid=settle]").await?;
    app.finish_in_cash("100").await?;
    let visits = sim.query(&format!(
        "SELECT med_type || '|' || dise_codg FROM visits WHERE psn_no = '{psn}' AND cancelled = 0"
    ))?;
    assert_eq!(visits, "14|M03900", "the center's visit");
    app.close().await
}
