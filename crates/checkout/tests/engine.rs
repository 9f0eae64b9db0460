//! The engine against an in-process simulator over HTTP.
use std::time::Duration;

use checkout::{Engine, EngineConfig, Operator, Pay};

async fn setup(read_timeout: Duration) -> (Engine, Operator, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let addr = center_sim::spawn(
        "127.0.0.1:0",
        &dir.path().join("sim.db"),
        center_sim::SimOptions {
            control: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let url = format!("http://{addr}");
    let key = ledger::LedgerKey::load_or_create(&dir.path().join("l.key")).unwrap();
    let l = ledger::Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    l.set_counter_no(1).await.unwrap();
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

/// Another counter of the same institution: its own ledger (`file` in `dir`), counter
/// number `n`, cashier C009 乙.
async fn another_counter(
    dir: &std::path::Path,
    file: &str,
    n: u8,
    url: &str,
    read_timeout: Duration,
) -> (Engine, Operator) {
    let key = ledger::LedgerKey::load_or_create(&dir.join(format!("{file}.key"))).unwrap();
    let l = ledger::Ledger::open(&dir.join(file), &key).await.unwrap();
    l.set_counter_no(n).await.unwrap();
    l.create_operator(
        "C009",
        "乙",
        ledger::Role::Cashier,
        "cashier-pass-9",
        chrono::Local::now().naive_local(),
    )
    .await
    .unwrap();
    let mut cfg = EngineConfig::demo(url);
    cfg.read_timeout = read_timeout;
    (
        Engine::new(l, cfg).unwrap(),
        Operator {
            id: "C009".into(),
            name: "乙".into(),
        },
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
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    fault(&url, "2207", "hang_after", 2000).await;
    let err = e.settle(&op, &v.id).await.unwrap_err();
    assert_eq!(err.kind.as_str(), "network", "{err:?}");
    assert!(err.message.contains("已自动冲正"), "{}", err.message);
    assert_eq!(e.view(&v.id).await.unwrap().state.as_str(), "presettled");
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
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    let s = e.settle(&op, &v.id).await.unwrap();
    assert_eq!(s.state.as_str(), "settled");
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
    assert_eq!(paid.state.as_str(), "done");
    let no = e
        .refund(&op, &v.id, "C001", "cashier-pass-1", "test")
        .await
        .unwrap_err();
    assert_eq!(no.kind.as_str(), "auth");
    let wrong = e
        .refund(&op, &v.id, "S001", "wrong-password", "test")
        .await
        .unwrap_err();
    assert_eq!(wrong.kind.as_str(), "auth");
    let r = e
        .refund(&op, &v.id, "S001", "super-pass-1", "test")
        .await
        .unwrap();
    assert_eq!(r.state.as_str(), "refunded");
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
    assert_eq!(err.kind.as_str(), "wrong_code");
    assert!(err.message.contains("微信"));
    let err = e
        .resolve_id(&op, &v.id, "440305198503120017", "")
        .await
        .unwrap_err();
    assert_eq!(err.kind.as_str(), "input");
    let err = e
        .resolve_id(&op, &v.id, "44030519850312001X", "王五")
        .await
        .unwrap_err();
    assert_eq!(err.kind.as_str(), "data_mismatch");
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
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    let s = e.settle(&op, &v.id).await.unwrap();
    if s.state == checkout::CheckoutState::Settled {
        e.pay(&op, &v.id, Pay::Cash { given: s.due }).await.unwrap();
    }
    // Keep only the first line (阿莫西林 2 × 25.00).
    let n = e
        .partial_refund(&op, &v.id, &[0], "S001", "super-pass-1")
        .await
        .unwrap();
    assert_eq!(n.total, money::Fen::parse("50.00").unwrap());
    assert!(n.setl_id.is_some() && n.setl_id != s.setl_id);
    assert_eq!(e.view(&v.id).await.unwrap().state.as_str(), "refunded");
    let st = e.ledger.settlements().await.unwrap();
    assert_eq!(st.len(), 3, "settle, cancel, settle again");
    let standing: money::Fen = st.iter().map(|x| x.medfee_sumamt).sum();
    assert_eq!(standing, money::Fen::parse("50.00").unwrap());
}

async fn settle_one(e: &Engine, o: &Operator, certno: &str) -> String {
    let v = e.start(o).await.unwrap();
    e.resolve_id(o, &v.id, certno, "").await.unwrap();
    e.set_lines(o, &v.id, lines()).await.unwrap();
    e.set_visit(o, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(o, &v.id, true).await.unwrap();
    let s = e.settle(o, &v.id).await.unwrap();
    if s.state == checkout::CheckoutState::Settled {
        e.pay(o, &v.id, Pay::Cash { given: s.due }).await.unwrap();
    }
    s.setl_id.unwrap()
}

/// Scenario R2 for this counter: its ledger was restored from a copy taken before a
/// settlement (a replaced disk). The center holds the settlement under this counter's
/// msgid, so end of day books it back (5203).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_books_this_counters_settlement_the_ledger_lost() {
    let (a, op, url, dir) = setup(Duration::from_secs(10)).await;
    a.ledger.checkpoint().await.unwrap();
    let restored = dir.path().join("restored.db");
    std::fs::copy(dir.path().join("ledger.db"), &restored).unwrap();
    let setl = settle_one(&a, &op, "44030519850312001X").await;
    let key = ledger::LedgerKey::load_or_create(&dir.path().join("l.key")).unwrap();
    let lr = ledger::Ledger::open(&restored, &key).await.unwrap();
    assert_eq!(lr.counter_no().await.unwrap(), Some(1));
    let r_engine = Engine::new(lr, EngineConfig::demo(&url)).unwrap();
    // The restored copy's msgid sequence is behind: in the same second it would repeat
    // a msgid the center has seen (and the center refuses it, as it should).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let r = r_engine
        .reconcile_day(&op, &day, false, money::Fen::ZERO, None, None)
        .await
        .unwrap();
    let adopted: Vec<&String> = r.groups.iter().flat_map(|g| g.adopted.iter()).collect();
    assert_eq!(adopted, vec![&setl], "{:?}", r.groups);
    let again = r_engine
        .reconcile_day(&op, &day, false, money::Fen::ZERO, None, None)
        .await
        .unwrap();
    assert!(again.center_balanced, "{:?}", again.groups);
}

/// Two counters of one institution: counter A's end of day reports B's settlement
/// and books none of it (it was booking every counter's settlements of the day).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_never_adopts_another_counters_settlements() {
    let (a, op, url, dir) = setup(Duration::from_secs(10)).await;
    // Counters of one institution have their own numbers (msgids never collide).
    let (b, opb) = another_counter(dir.path(), "b.db", 2, &url, Duration::from_secs(10)).await;
    settle_one(&a, &op, "44030519850312001X").await;
    let theirs = settle_one(&b, &opb, "440306199207080026").await;
    let day = chrono::Local::now().format("%Y-%m-%d").to_string();
    let r = a
        .reconcile_day(&op, &day, false, money::Fen::ZERO, None, None)
        .await
        .unwrap();
    let adopted: Vec<&String> = r.groups.iter().flat_map(|g| g.adopted.iter()).collect();
    assert!(adopted.is_empty(), "{:?}", r.groups);
    let others: Vec<&String> = r
        .groups
        .iter()
        .flat_map(|g| g.other_counters.iter())
        .collect();
    assert_eq!(others, vec![&theirs]);
    assert_eq!(a.ledger.settlements().await.unwrap().len(), 1);
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
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();

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
    // The money stops: nothing is collected until a supervisor decides.
    assert_eq!(settled.state, checkout::CheckoutState::Held);
    assert_eq!(settled.stage, checkout::Stage::Held);
    let refused = e
        .pay(
            &op,
            &v.id,
            Pay::Cash {
                given: money::Fen(100_000),
            },
        )
        .await;
    assert_eq!(refused.unwrap_err().kind.as_str(), "state");
    let by_cashier = e
        .accept_held(&op, &v.id, "C001", "cashier-pass-1", "核对无误")
        .await;
    assert_eq!(by_cashier.unwrap_err().kind.as_str(), "auth");
    let ok = e
        .accept_held(&op, &v.id, "S001", "super-pass-1", "与中心电话核对无误")
        .await
        .unwrap();
    assert_eq!(ok.state, checkout::CheckoutState::Settled);
    let paid = e
        .pay(&op, &v.id, Pay::Cash { given: ok.due })
        .await
        .unwrap();
    assert_eq!(paid.state, checkout::CheckoutState::Done);
    let audit = e.ledger.audit_entries(0, 1000).await.unwrap();
    assert!(audit.iter().any(|a| a.action == "checkout.hold_accepted"
        && a.detail["supervisor"] == "S001"
        && a.detail["cashier"] == "C001"));
}

async fn sim_settlements(url: &str) -> Vec<serde_json::Value> {
    reqwest::get(format!("{url}/sim/settlements"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Defect: recovery reversed a settlement still in flight, and the checkout then
/// booked it as done and collected cash while the center held it reversed. Here the
/// 2207 answer is slow (1.5 s) while recovery runs every 100 ms on the same ledger:
/// recovery leaves the live call alone, exactly one valid settlement stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_running_beside_a_slow_settlement_never_reverses_it() {
    let (e, op, url, _d) = setup(Duration::from_secs(10)).await;
    for (n, certno) in ["44030519850312001X", "440306199207080026"]
        .iter()
        .enumerate()
    {
        let v = e.start(&op).await.unwrap();
        e.resolve_id(&op, &v.id, certno, "").await.unwrap();
        e.set_lines(&op, &v.id, lines()).await.unwrap();
        e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
        e.presettle(&op, &v.id, true).await.unwrap();
        fault(&url, "2207", "hang_after", 1500).await;
        let settle = {
            let (e, op, id) = (e.clone(), op.clone(), v.id.clone());
            tokio::spawn(async move { e.settle(&op, &id).await })
        };
        let mut reports = Vec::new();
        while !settle.is_finished() {
            reports.push(e.recover(&op).await.unwrap());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let s = settle.await.unwrap().unwrap();
        assert!(reports.len() > 5, "recovery ran beside the call");
        assert!(
            reports
                .iter()
                .all(|r| r.reversed.is_empty() && r.rewound.is_empty()),
            "{reports:?}"
        );
        assert!(reports.iter().any(|r| !r.in_flight.is_empty()));
        if s.state == checkout::CheckoutState::Settled {
            e.pay(&op, &v.id, Pay::Cash { given: s.due }).await.unwrap();
        }
        let book = sim_settlements(&url).await;
        let valid: Vec<_> = book.iter().filter(|s| s["state"] == "valid").collect();
        assert_eq!(valid.len(), n + 1, "{book:?}");
        assert!(book.iter().all(|s| s["state"] != "reversed"), "{book:?}");
    }
}

/// Two counters of one institution settling in the same seconds, both losing their
/// 2207 answers: each reverses its own call only, and no msgid is shared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_counters_losing_answers_at_once_reverse_only_their_own() {
    let (a, op, url, dir) = setup(Duration::from_millis(700)).await;
    let (b, opb) = another_counter(dir.path(), "b.db", 2, &url, Duration::from_millis(700)).await;
    let mut ids = Vec::new();
    for (e, o, certno) in [
        (&a, &op, "44030519850312001X"),
        (&b, &opb, "440306199207080026"),
    ] {
        let v = e.start(o).await.unwrap();
        e.resolve_id(o, &v.id, certno, "").await.unwrap();
        e.set_lines(o, &v.id, lines()).await.unwrap();
        e.set_visit(o, &v.id, "11", demo_visit()).await.unwrap();
        e.presettle(o, &v.id, true).await.unwrap();
        ids.push(v.id);
    }
    reqwest::Client::new()
        .post(format!("{url}/sim/fault"))
        .json(&serde_json::json!({"infno": "2207", "mode": "hang_after", "delay_ms": 1500, "count": 2}))
        .send()
        .await
        .unwrap();
    let (ra, rb) = tokio::join!(a.settle(&op, &ids[0]), b.settle(&opb, &ids[1]));
    for r in [&ra, &rb] {
        let err = r.as_ref().unwrap_err();
        assert!(err.message.contains("已自动冲正"), "{err:?}");
    }
    let book = sim_settlements(&url).await;
    assert_eq!(book.len(), 2, "{book:?}");
    assert!(book.iter().all(|s| s["state"] == "reversed"), "{book:?}");
    let msgids = |l: &ledger::Ledger, id: &str| {
        let l = l.clone();
        let id = id.to_string();
        async move {
            l.calls_of_checkout(&id)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.msgid)
                .collect::<std::collections::HashSet<_>>()
        }
    };
    let (ma, mb) = (
        msgids(&a.ledger, &ids[0]).await,
        msgids(&b.ledger, &ids[1]).await,
    );
    assert!(ma.is_disjoint(&mb), "{ma:?} {mb:?}");
    assert!(ma.iter().all(|m| &m[26..28] == "01"));
    assert!(mb.iter().all(|m| &m[26..28] == "02"));
    // Both settle again: two valid settlements, one per person.
    for (e, o, id) in [(&a, &op, &ids[0]), (&b, &opb, &ids[1])] {
        e.settle(o, id).await.unwrap();
    }
    let book = sim_settlements(&url).await;
    let valid: Vec<_> = book.iter().filter(|s| s["state"] == "valid").collect();
    assert_eq!(valid.len(), 2, "{book:?}");
}

/// The simulator's 2601 checks the person: a reversal naming someone else is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reversal_naming_another_person_is_refused_by_the_center() {
    let (e, op, url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "44030519850312001X", "")
        .await
        .unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    e.settle(&op, &v.id).await.unwrap();
    let call = e
        .ledger
        .calls_of_checkout(&v.id)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.infno == "2207")
        .unwrap();
    let client = nhsa::Client::new(
        nhsa::ClientConfig::new(url.clone()),
        e.cfg.institution.clone(),
    )
    .unwrap();
    let sign_no = e.sign_no(&op).await.unwrap();
    let caller = nhsa::Caller {
        opter: op.id.clone(),
        opter_name: op.name.clone(),
        sign_no,
        insuplc_admdvs: String::new(),
    };
    let msgid = e
        .ledger
        .next_msgid(&e.cfg.institution.fixmedins_code, e.now())
        .await
        .unwrap();
    let env = client.envelope(
        nhsa::Infno::Reverse,
        &msgid,
        &caller,
        e.now(),
        nhsa::inputs::reverse("99999999999999999999", &call.msgid, "2207"),
    );
    let r = client.send(&env).await.unwrap_err();
    assert!(r.detail().contains("人员"), "{}", r.detail());
    let book = sim_settlements(&url).await;
    assert!(book.iter().all(|s| s["state"] == "valid"), "{book:?}");
}

/// Defect 5: a 2207 success answer that cannot be read blocked recovery for good (the
/// settlement stayed valid at the center, every later recover stopped). Now: the answer
/// is in doubt, reversed at once; when the reversal itself fails, recovery reports that
/// item and a later recovery resolves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_settlement_answer_is_reversed_and_never_blocks_recovery() {
    let (e, op, url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "44030519850312001X", "")
        .await
        .unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    fault(&url, "2207", "malformed_ok", 0).await;
    let err = e.settle(&op, &v.id).await.unwrap_err();
    assert!(err.message.contains("已自动冲正"), "{err:?}");
    assert_eq!(
        e.view(&v.id).await.unwrap().state,
        checkout::CheckoutState::Presettled
    );
    let book = sim_settlements(&url).await;
    assert!(book.iter().all(|s| s["state"] == "reversed"), "{book:?}");

    // Again, and this time the center refuses the 2601 once: the checkout stays settling.
    fault(&url, "2207", "malformed_ok", 0).await;
    reqwest::Client::new()
        .post(format!("{url}/sim/fault"))
        .json(&serde_json::json!({"infno": "2601", "mode": "error", "message": "系统繁忙"}))
        .send()
        .await
        .unwrap();
    assert!(e.settle(&op, &v.id).await.is_err());
    assert_eq!(
        e.view(&v.id).await.unwrap().state,
        checkout::CheckoutState::Settling
    );
    // A second patient meanwhile: recovery must go on past the unreadable one.
    let w = e.start(&op).await.unwrap();
    e.resolve_id(&op, &w.id, "440306199207080026", "")
        .await
        .unwrap();
    let r = e.recover(&op).await.unwrap();
    assert!(r.reversed.len() == 1 && r.failed.is_empty(), "{r:?}");
    assert_eq!(
        e.view(&v.id).await.unwrap().state,
        checkout::CheckoutState::Presettled
    );
    let book = sim_settlements(&url).await;
    assert!(book.iter().all(|s| s["state"] == "reversed"), "{book:?}");
    // And it settles cleanly now.
    e.settle(&op, &v.id).await.unwrap();
}

/// Defect 7: one QR code settled twice when two checkouts used it at once. The
/// counter refuses the second resolve; the center refuses a second 2207 with a code
/// already settled (if two counters did it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_code_settles_once() {
    let (e, op, url, _d) = setup(Duration::from_secs(10)).await;
    let persons: Vec<serde_json::Value> = reqwest::get(format!("{url}/sim/persons"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let psn = persons
        .iter()
        .find(|p| p["scenario"] == "normal_employee")
        .unwrap()["psn_no"]
        .as_str()
        .unwrap()
        .to_string();
    let code = reqwest::get(format!("{url}/sim/persons/{psn}/qr"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let a = e.start(&op).await.unwrap();
    e.resolve_qr(&op, &a.id, &code).await.unwrap();
    let b = e.start(&op).await.unwrap();
    let err = e.resolve_qr(&op, &b.id, &code).await.unwrap_err();
    assert_eq!(err.kind.as_str(), "code_in_use", "{err:?}");

    // A second counter (its own ledger) resolving the same code at the same time.
    let dir = tempfile::tempdir().unwrap();
    let (eb, opb) = another_counter(dir.path(), "b.db", 2, &url, Duration::from_secs(10)).await;
    let c = eb.start(&opb).await.unwrap();
    eb.resolve_qr(&opb, &c.id, &code).await.unwrap();
    for (x, o, id) in [(&e, &op, &a.id), (&eb, &opb, &c.id)] {
        x.set_lines(o, id, lines()).await.unwrap();
        x.set_visit(o, id, "11", demo_visit()).await.unwrap();
        x.presettle(o, id, true).await.unwrap();
    }
    e.settle(&op, &a.id).await.unwrap();
    let err = eb.settle(&opb, &c.id).await.unwrap_err();
    assert!(err.detail.unwrap_or_default().contains("已用于结算"));
    let valid = sim_settlements(&url)
        .await
        .into_iter()
        .filter(|s| s["state"] == "valid")
        .count();
    assert_eq!(valid, 1);
}

/// Issue 10 bug 7: a replayed offline settlement reset its checkout to `new` while a
/// queued 2601 for its earlier in-doubt 2207 waited behind it. Replays of a checkout
/// whose 2207 is unresolved now reverse that 2207 first: no second 2207 is sent while
/// an earlier one may stand, and exactly one settlement stands at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_never_sends_a_second_2207_while_the_first_is_unresolved() {
    let (e, op, url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    let given = money::Fen::parse("100").unwrap();
    let q = e
        .offline_collect(
            &op,
            &v.id,
            "44030519850312001X",
            "张伟",
            Pay::Cash { given },
        )
        .await
        .unwrap();
    assert_eq!(q.state, checkout::CheckoutState::OfflineQueued);
    let open_2207s = |e: &Engine, id: &str| {
        let (l, id) = (e.ledger.clone(), id.to_string());
        async move {
            let calls = l.calls_of_checkout(&id).await.unwrap();
            let all: Vec<_> = calls.into_iter().filter(|c| c.infno == "2207").collect();
            (
                all.len(),
                all.iter()
                    .filter(|c| c.state.is_open() || c.state == ledger::CallState::Ok)
                    .count(),
            )
        }
    };
    // The replay's 2207 gets no readable answer, and the 2601 fails twice.
    fault(&url, "2207", "http500", 0).await;
    reqwest::Client::new()
        .post(format!("{url}/sim/fault"))
        .json(&serde_json::json!({"infno": "2601", "mode": "http500", "count": 2}))
        .send()
        .await
        .unwrap();
    let r = e.sync_queue(&op, true).await.unwrap();
    assert!(r.deferred.is_some(), "{r:?}");
    assert_eq!(
        e.view(&v.id).await.unwrap().state,
        checkout::CheckoutState::Settling
    );
    assert_eq!(open_2207s(&e, &v.id).await, (1, 1));
    // Again while the 2601 still fails: the replay does not send another 2207.
    let r = e.sync_queue(&op, true).await.unwrap();
    assert!(r.deferred.is_some(), "{r:?}");
    assert_eq!(
        open_2207s(&e, &v.id).await,
        (1, 1),
        "a second 2207 while the first may stand"
    );
    // The center answers again: the first 2207 is reversed, then the replay settles once.
    let r = e.sync_queue(&op, true).await.unwrap();
    assert!(r.deferred.is_none() && r.failed.is_empty(), "{r:?}");
    assert_eq!(open_2207s(&e, &v.id).await, (2, 1));
    let done = e.view(&v.id).await.unwrap();
    assert_eq!(done.state, checkout::CheckoutState::Done);
    let valid = sim_settlements(&url)
        .await
        .into_iter()
        .filter(|s| s["state"] == "valid")
        .count();
    assert_eq!(valid, 1);
}

/// A visit from the HIS goes out as it is: 2201 names the visit's doctor, department
/// and 科别 (not the cashier), 2203 every diagnosis.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_his_visit_is_what_2201_and_2203_send() {
    let (e, op, _url, _d) = setup(Duration::from_secs(10)).await;
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, "44030519850312001X", "张伟")
        .await
        .unwrap();
    let visit: nhsa::visit::Visit = serde_json::from_value(serde_json::json!({
        "ipt_otp_no": "MZ202612010001", "begntime": "2026-12-01 08:30:00",
        "dept_code": "A03.01", "dept_name": "心血管内科门诊", "caty": "A03",
        "atddr_no": "D440300000001", "dr_name": "李明",
        "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "I10.x00",
            "diag_name": "原发性高血压", "diag_dept": "心血管内科门诊",
            "dise_dor_no": "D440300000001", "dise_dor_name": "李明",
            "diag_time": "2026-12-01 08:40:00", "vali_flag": "1"}]
    }))
    .unwrap();
    let mut incomplete = visit.clone();
    incomplete.dr_name.clear();
    let err = e.set_visit(&op, &v.id, "11", incomplete).await.unwrap_err();
    assert!(err.message.contains("dr_name"), "{}", err.message);
    e.set_visit(&op, &v.id, "11", visit).await.unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    let calls = e.ledger.calls_of_checkout(&v.id).await.unwrap();
    let reg = &calls.iter().find(|c| c.infno == "2201").unwrap().request["data"];
    assert_eq!(reg["atddr_no"], "D440300000001");
    assert_eq!(reg["dr_name"], "李明");
    assert_eq!(reg["dept_code"], "A03.01");
    assert_eq!(reg["caty"], "A03");
    assert_eq!(reg["ipt_otp_no"], "MZ202612010001");
    assert_ne!(
        reg["atddr_no"],
        op.id.as_str(),
        "the cashier sent as the doctor"
    );
    let up = &calls.iter().find(|c| c.infno == "2203").unwrap().request;
    assert_eq!(up["diseinfo"][0]["diag_code"], "I10.x00");
    assert_eq!(up["diseinfo"][0]["dise_dor_no"], "D440300000001");
}

/// A visit a strict center accepts (the demo institution's doctor and a main diagnosis).
fn demo_visit() -> nhsa::visit::Visit {
    nhsa::visit::Visit::demo("MZ1", "2026-12-01 08:30:00")
}
