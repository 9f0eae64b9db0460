//! The engine against an in-process simulator over HTTP.
use std::time::Duration;

use checkout::{Engine, EngineConfig, Operator, Pay};

async fn setup(read_timeout: Duration) -> (Engine, Operator, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let addr = center_sim::spawn(
        "127.0.0.1:0",
        &dir.path().join("sim.db"),
        Default::default(),
    )
    .await
    .unwrap();
    let url = format!("http://{addr}");
    let key = ledger::LedgerKey::load_or_create(&dir.path().join("l.key")).unwrap();
    let l = ledger::Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    let now = chrono::Local::now().naive_local();
    l.create_operator(
        "C001",
        "李收费",
        ledger::Role::Cashier,
        "cashier-pass-1",
        now,
    )
    .await
    .unwrap();
    l.create_operator(
        "S001",
        "王主管",
        ledger::Role::Supervisor,
        "super-pass-1",
        now,
    )
    .await
    .unwrap();
    let mut cfg = EngineConfig::demo(&url);
    cfg.read_timeout = read_timeout;
    (
        Engine::new(l, cfg).unwrap(),
        Operator {
            id: "C001".into(),
            name: "李收费".into(),
        },
        url,
        dir,
    )
}

fn lines() -> Vec<billing::BillLine> {
    let c = billing::Catalog::demo();
    vec![c.search("amxl", 1)[0].line(money::Qty::parse("2").unwrap())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_settle_answer_is_reversed_at_once_and_the_patient_can_settle_again() {
    let (e, op, url, _d) = setup(Duration::from_millis(800)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "44030519850312001X", "张伟")
        .await
        .unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    fault(&url, "2207", "hang_after", 2000).await;
    let err = e.settle(&op, &v.id).await.unwrap_err();
    assert_eq!(err.kind, "network", "{err:?}");
    assert!(err.message.contains("已自动冲正"), "{}", err.message);
    assert_eq!(e.view(&v.id).await.unwrap().stage, "presettled");
    let done = e.settle(&op, &v.id).await.unwrap();
    assert!(done.setl_id.is_some());
    assert_eq!(
        e.ledger.settlements().await.unwrap().len(),
        1,
        "settled once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_need_a_supervisor_and_return_cash_through_its_channel() {
    let (e, op, _url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "440303197811230037", "")
        .await
        .unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    let s = e.settle(&op, &v.id).await.unwrap();
    assert_eq!(s.stage, "settled");
    let paid = e
        .pay(
            &op,
            &v.id,
            Pay::Cash {
                given: money::Fen::yuan(100),
            },
        )
        .await
        .unwrap();
    assert_eq!(paid.stage, "done");
    let no = e
        .refund(&op, &v.id, "C001", "cashier-pass-1", "test")
        .await
        .unwrap_err();
    assert_eq!(no.kind, "auth");
    let wrong = e
        .refund(&op, &v.id, "S001", "wrong-password", "test")
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, "auth");
    let r = e
        .refund(&op, &v.id, "S001", "super-pass-1", "test")
        .await
        .unwrap();
    assert_eq!(r.stage, "refunded");
    let back: money::Fen = r
        .payments
        .iter()
        .filter(|p| p.payment.channel == ledger::PaymentChannel::Cash)
        .map(|p| p.payment.amount)
        .sum();
    assert_eq!(
        back,
        money::Fen::ZERO,
        "the cash came back through the cash channel"
    );
    let receipt = e.receipt_data(&v.id, true, true).await.unwrap();
    assert!(receipt.orig_setl_id.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_goes_through_the_queue_and_the_next_call_signs_in_again() {
    let (e, op, _url, _d) = setup(Duration::from_secs(10)).await;
    let first = e.sign_no(&op).await.unwrap();
    e.sign_out(&op).await.unwrap();
    let r = e.sync_queue(&op, true).await.unwrap();
    assert_eq!(r.done.len(), 1, "{r:?}");
    let second = e.sign_no(&op).await.unwrap();
    assert_ne!(first, second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_code_and_a_bad_id_number_are_refused_with_what_to_do() {
    let (e, op, _url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    let err = e
        .resolve_qr(&op, &v.id, "134567890123456789")
        .await
        .unwrap_err();
    assert_eq!(err.kind, "wrong_code");
    assert!(err.message.contains("微信"));
    let err = e
        .resolve_id(&op, &v.id, "440305198503120017", "")
        .await
        .unwrap_err();
    assert_eq!(err.kind, "input");
    let err = e
        .resolve_id(&op, &v.id, "44030519850312001X", "王五")
        .await
        .unwrap_err();
    assert_eq!(err.kind, "data_mismatch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_refund_cancels_and_resettles_the_kept_lines() {
    let (e, op, _url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "44030519850312001X", "")
        .await
        .unwrap();
    let c = billing::Catalog::demo();
    let two = vec![
        c.search("amxl", 1)[0].line(money::Qty::parse("2").unwrap()),
        c.search("xcg", 1)[0].line(money::Qty::parse("1").unwrap()),
    ];
    e.set_lines(&op, &v.id, two).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    let s = e.settle(&op, &v.id).await.unwrap();
    if s.stage == "settled" {
        e.pay(&op, &v.id, Pay::Cash { given: s.due }).await.unwrap();
    }
    // Keep only the first line (阿莫西林 2 × 25.00).
    let n = e
        .partial_refund(&op, &v.id, &[0], "S001", "super-pass-1")
        .await
        .unwrap();
    assert_eq!(n.total, money::Fen::parse("50.00").unwrap());
    assert!(n.setl_id.is_some() && n.setl_id != s.setl_id);
    assert_eq!(e.view(&v.id).await.unwrap().stage, "refunded");
    let st = e.ledger.settlements().await.unwrap();
    assert_eq!(st.len(), 3, "settle, cancel, settle again");
    let standing: money::Fen = st.iter().map(|x| x.medfee_sumamt).sum();
    assert_eq!(standing, money::Fen::parse("50.00").unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_books_a_settlement_the_center_has_and_the_ledger_lacks() {
    let (a, op, url, dir) = setup(Duration::from_secs(10)).await;
    // A second counter (its own ledger, same institution) settles a patient: for counter A this
    // is a settlement the center has and A's ledger lacks (scenario R2).
    let key = ledger::LedgerKey::load_or_create(&dir.path().join("b.key")).unwrap();
    let lb = ledger::Ledger::open(&dir.path().join("b.db"), &key)
        .await
        .unwrap();
    lb.create_operator(
        "C009",
        "乙",
        ledger::Role::Cashier,
        "cashier-pass-9",
        chrono::Local::now().naive_local(),
    )
    .await
    .unwrap();
    // Counters of one institution have their own terminal numbers (msgids never collide).
    lb.set_terminal_no(1).await.unwrap();
    let b = Engine::new(lb, EngineConfig::demo(&url)).unwrap();
    let opb = Operator {
        id: "C009".into(),
        name: "乙".into(),
    };
    for (e, o, id) in [
        (&a, &op, "44030519850312001X"),
        (&b, &opb, "440306199207080026"),
    ] {
        let v = e.start(o).await.unwrap();
        e.resolve_id(o, &v.id, id, "").await.unwrap();
        e.set_lines(o, &v.id, lines()).await.unwrap();
        e.presettle(o, &v.id, true).await.unwrap();
        let s = e.settle(o, &v.id).await.unwrap();
        if s.stage == "settled" {
            e.pay(o, &v.id, Pay::Cash { given: s.due }).await.unwrap();
        }
    }
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let r = a
        .reconcile_day(&op, &day, false, money::Fen::ZERO, None, None)
        .await
        .unwrap();
    assert!(
        !r.center_balanced,
        "A alone does not balance with the center"
    );
    let adopted: Vec<&String> = r.groups.iter().flat_map(|g| g.adopted.iter()).collect();
    assert_eq!(adopted.len(), 1, "{:?}", r.groups);
    let again = a
        .reconcile_day(&op, &day, false, money::Fen::ZERO, None, None)
        .await
        .unwrap();
    assert!(again.center_balanced, "{:?}", again.groups);
}

/// Inject a simulator fault (`POST /sim/fault`); `delay_ms` for the modes that hang.
async fn fault(url: &str, infno: &str, mode: &str, delay_ms: u64) {
    reqwest::Client::new()
        .post(format!("{url}/sim/fault"))
        .json(&serde_json::json!({"infno": infno, "mode": mode, "delay_ms": delay_ms}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
}

/// The center's answers are checked, not trusted: a settlement whose figures do not
/// add up is recorded (it exists at the center) and flagged before money is taken;
/// a pre-settlement whose line figures disagree with the catalogue is flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_that_do_not_add_up_or_disagree_with_the_catalogue_are_flagged() {
    let (e, op, url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "44030519850312001X", "张伟")
        .await
        .unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();

    // An honest center: nothing to flag.
    let pre = e.presettle(&op, &v.id, true).await.unwrap();
    assert!(pre.discrepancies.is_empty(), "{:?}", pre.discrepancies);

    // 2206 moves 1.00 from 符合范围 to 全自费: identities hold, the catalogue disagrees.
    fault(&url, "2206", "tamper_class", 0).await;
    let pre = e.presettle(&op, &v.id, true).await.unwrap();
    let notes = pre.discrepancies.join("\n");
    assert!(
        notes.contains("全自费金额") && notes.contains("符合政策范围金额"),
        "{notes}"
    );

    // An honest 2206 again, then a 2207 whose cash part is 1.00 too high.
    let pre = e.presettle(&op, &v.id, true).await.unwrap();
    assert!(pre.discrepancies.is_empty(), "{:?}", pre.discrepancies);
    fault(&url, "2207", "tamper_cash", 0).await;
    let settled = e.settle(&op, &v.id).await.unwrap();
    assert!(settled.setl_id.is_some(), "the settlement is recorded");
    let notes = settled.discrepancies.join("\n");
    assert!(notes.contains("金额不平"), "{notes}");
    assert!(notes.contains("个人现金支付：预结算"), "{notes}");
    assert_eq!(e.ledger.settlements().await.unwrap().len(), 1);
}
