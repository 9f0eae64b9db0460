//! The counter session (sign-in, the patient on the counter, roles, the replay loop)
//! against an in-process simulator over HTTP, without any window.
use std::time::Duration;

use checkout::{Counter, CounterEvent, Engine, EngineConfig, ErrorCode, FenceKind, Pay};
use ledger::{AuthSource, CheckoutState, Role};

struct Fixture {
    counter: Counter,
    _dir: tempfile::TempDir,
}

async fn counter(every: Duration) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let addr = center_sim::spawn(
        "127.0.0.1:0",
        &dir.path().join("sim.db"),
        center_sim::SimOptions::default(),
    )
    .await
    .unwrap();
    let key = ledger::LedgerKey::load_or_create(&dir.path().join("l.key")).unwrap();
    let l = ledger::Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    l.set_counter_no(1).await.unwrap();
    let now = chrono::Local::now().naive_local();
    for (id, name, role, pw) in [
        ("C001", "甲", Role::Cashier, "cashier-pass-1"),
        ("C002", "乙", Role::Cashier, "cashier-pass-2"),
        ("S001", "主管", Role::Supervisor, "super-pass-1"),
        ("F001", "财务", Role::Finance, "finance-pass-1"),
    ] {
        l.create_operator(id, name, role, pw, now).await.unwrap();
    }
    let e = Engine::new(l, EngineConfig::demo(&format!("http://{addr}"))).unwrap();
    Fixture {
        counter: Counter::with_replay_every(e, AuthSource::Window, every),
        _dir: dir,
    }
}

fn lines() -> Vec<billing::BillLine> {
    let c = billing::Catalog::demo();
    vec![c.search("amxl", 1)[0].line(money::Qty::parse("2").unwrap())]
}

/// A's checkout collected offline and queued, then A signs out and B signs in: the
/// queue is replayed as B (A is not signed in at the center again), and the replay
/// stops when B signs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_run_as_whoever_is_signed_in_now_and_stop_at_sign_out() {
    let f = counter(Duration::from_millis(200)).await;
    let c = &f.counter;
    let mut events = c.subscribe();
    let a = c.sign_in("C001", "cashier-pass-1").await.unwrap();
    let id = c.current_or_start().await.unwrap();
    let e = c.engine();
    // A talks to the center once (9001, 1101), so A has a sign-in to close at sign-out.
    e.resolve_id(&a.operator(), &id, "44030519850312001X", "张伟")
        .await
        .unwrap();
    e.set_lines(&a.operator(), &id, lines()).await.unwrap();
    e.set_visit(&a.operator(), &id, "11", demo_visit())
        .await
        .unwrap();
    e.offline_collect(
        &a.operator(),
        &id,
        "44030519850312001X",
        "张伟",
        Pay::Cash {
            given: money::Fen::yuan(100),
        },
    )
    .await
    .unwrap();
    c.sign_out().await.unwrap();
    assert_eq!(c.current().await, None, "nothing of A stays on the counter");
    let b = c.sign_in("C002", "cashier-pass-2").await.unwrap();
    assert_eq!(b.id, "C002");
    // Wait until the queued settlement has been replayed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if e.view(&id).await.unwrap().state == CheckoutState::Done {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "replay never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // … and A's queued 9002 is sent (as A, closing A's sign_no, without signing A in).
    loop {
        let open = e
            .ledger
            .outbox(false)
            .await
            .unwrap()
            .into_iter()
            .filter(|i| i.state != ledger::OutboxState::Done)
            .count();
        if open == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the 9002 was never sent"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let today = e.now().date();
    let a_day = e.ledger.sign_in_for("C001", today).await.unwrap();
    assert!(
        a_day.as_ref().is_none_or(|s| s.signed_out_at.is_some()),
        "A was signed in again at the center: {a_day:?}"
    );
    // Every replay pass after B signed in ran as B.
    let mut seen_b = false;
    while let Ok(ev) = events.try_recv() {
        if let CounterEvent::Replayed { operator } = ev {
            if operator == "C002" {
                seen_b = true;
            } else {
                assert!(!seen_b, "a replay as {operator} after B signed in");
            }
        }
    }
    assert!(seen_b);
    c.sign_out().await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    while events.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !matches!(events.try_recv(), Ok(CounterEvent::Replayed { .. })),
        "the replay goes on after sign-out"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_patient_cannot_be_abandoned_and_comes_back_after_a_restart() {
    let f = counter(Duration::from_secs(3600)).await;
    let c = &f.counter;
    let a = c.sign_in("C001", "cashier-pass-1").await.unwrap();
    let op = a.operator();
    let id = c.current_or_start().await.unwrap();
    let e = c.engine();
    e.resolve_id(&op, &id, "44030519850312001X", "张伟")
        .await
        .unwrap();
    e.set_lines(&op, &id, lines()).await.unwrap();
    e.set_visit(&op, &id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &id, false).await.unwrap();
    let v = e.settle(&op, &id).await.unwrap();
    assert_eq!(
        v.state,
        CheckoutState::Settled,
        "the patient's part is to be collected"
    );
    let err = c.reset().await.unwrap_err();
    assert_eq!(err.kind, ErrorCode::Validation);
    assert!(err.message.contains("不能直接放弃"), "{}", err.message);
    let err = c.ensure_free("再继续").await.unwrap_err();
    assert!(err.message.contains("未完成的患者"));

    // The process restarts (a new counter on the same engine): at sign-in the
    // patient whose part is still to be collected is back.
    let again = Counter::new(e.clone(), AuthSource::Window);
    assert_eq!(again.current().await, None);
    again.sign_in("C001", "cashier-pass-1").await.unwrap();
    assert_eq!(again.current().await.as_deref(), Some(id.as_str()));
    // Another cashier's sign-in does not take it.
    let other = Counter::new(e.clone(), AuthSource::Window);
    other.sign_in("C002", "cashier-pass-2").await.unwrap();
    assert_eq!(other.current().await, None);
    // … but B can finish it on purpose (history: 继续收款).
    other.resume(&id).await.unwrap();
    assert_eq!(other.current().await.as_deref(), Some(id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_enforced_by_the_counter_not_the_window() {
    let f = counter(Duration::from_secs(3600)).await;
    let c = &f.counter;
    assert_eq!(
        c.current_or_start().await.unwrap_err().kind,
        ErrorCode::NotSignedIn
    );
    c.sign_in("F001", "finance-pass-1").await.unwrap();
    let err = c.current_or_start().await.unwrap_err();
    assert_eq!(err.kind, ErrorCode::Forbidden, "finance takes no patients");
    assert!(c.require(ledger::Action::Reconcile).await.is_ok());
    c.sign_out().await.unwrap();

    c.sign_in("C001", "cashier-pass-1").await.unwrap();
    let err = c
        .add_operator("C003", "丙", Role::Supervisor, "new-pass-123")
        .await
        .unwrap_err();
    assert_eq!(
        err.kind,
        ErrorCode::Forbidden,
        "a cashier makes no accounts"
    );
    c.sign_out().await.unwrap();

    c.sign_in("S001", "super-pass-1").await.unwrap();
    c.add_operator("C003", "丙", Role::Cashier, "new-pass-123")
        .await
        .unwrap();
    let err = c
        .add_operator("A001", "信息科", Role::Admin, "new-pass-123")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorCode::Forbidden);
    // A wrong password says nothing about whether the id exists.
    c.sign_out().await.unwrap();
    let unknown = c.sign_in("NOBODY", "whatever-1").await.unwrap_err();
    let wrong = c.sign_in("C001", "whatever-1").await.unwrap_err();
    assert_eq!(unknown.message, wrong.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_leaves_nothing_of_the_cashier() {
    let f = counter(Duration::from_secs(3600)).await;
    let c = &f.counter;
    c.sign_in("C001", "cashier-pass-1").await.unwrap();
    c.current_or_start().await.unwrap();
    let day = c.engine().now().date().to_string();
    let r = c
        .engine()
        .reconcile_day(
            &c.signed().await.unwrap().operator(),
            &day,
            false,
            money::Fen::ZERO,
            None,
            None,
        )
        .await
        .unwrap();
    c.set_last_report(r).await;
    assert!(c.last_report().await.is_some());
    c.sign_out().await.unwrap();
    assert_eq!(c.signed().await, None);
    assert_eq!(c.current().await, None);
    assert!(c.last_report().await.is_none());
}

async fn settle_for(c: &Counter, certno: &str, name: &str) -> String {
    let op = c.signed().await.unwrap().operator();
    let e = c.engine();
    let v = e.start(&op).await.unwrap();
    e.resolve_id(&op, &v.id, certno, name).await.unwrap();
    e.set_lines(&op, &v.id, lines()).await.unwrap();
    e.set_visit(&op, &v.id, "11", demo_visit()).await.unwrap();
    e.presettle(&op, &v.id, true).await.unwrap();
    let s = e.settle(&op, &v.id).await.unwrap();
    if s.state == CheckoutState::Settled {
        e.pay(
            &op,
            &v.id,
            Pay::Cash {
                given: money::Fen::yuan(100),
            },
        )
        .await
        .unwrap();
    }
    v.id
}

/// 电子围栏: the same person settled again within minutes, three times within the
/// hour, and a cashier refunding their own settlement are flagged for the supervisor
/// and written to the audit log (which still verifies); nothing is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_bursts_and_own_refunds_are_flagged_for_the_supervisor() {
    let f = counter(Duration::from_secs(3600)).await;
    let c = &f.counter;
    c.sign_in("S001", "super-pass-1").await.unwrap();
    let since = c.engine().now().format("%Y-%m-%d 00:00:00").to_string();
    let first = settle_for(c, "44030519850312001X", "张伟").await;
    assert!(c.engine().fence_flags(&since).await.unwrap().is_empty());
    settle_for(c, "44030519850312001X", "张伟").await;
    settle_for(c, "44030519850312001X", "张伟").await;
    settle_for(c, "440306199207080026", "李娜").await;
    let op = c.signed().await.unwrap().operator();
    c.engine()
        .refund(&op, &first, "S001", "super-pass-1", "患者退费")
        .await
        .unwrap();
    let flags = c.engine().fence_flags(&since).await.unwrap();
    let kinds: Vec<FenceKind> = flags.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == FenceKind::Repeat).count(),
        2,
        "{flags:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == FenceKind::Burst).count(),
        1,
        "{flags:?}"
    );
    assert!(kinds.contains(&FenceKind::OwnRefund), "{flags:?}");
    assert!(flags.iter().all(|f| f.operator == "S001"));
    let own = flags
        .iter()
        .find(|f| f.kind == FenceKind::OwnRefund)
        .unwrap();
    assert_eq!(own.checkout_id, first);
    let report = c.engine().ledger.verify_audit().await.unwrap();
    assert!(report.ok, "{report:?}");
}

/// A settlement outside the counter's opening hours is flagged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settlement_in_the_night_is_flagged() {
    let f = counter(Duration::from_secs(3600)).await;
    let night = chrono::Local::now()
        .date_naive()
        .and_hms_opt(23, 40, 0)
        .unwrap();
    let e = f.counter.engine().clone().with_clock(move || night);
    let c = Counter::new(e, AuthSource::Window);
    c.sign_in("C001", "cashier-pass-1").await.unwrap();
    settle_for(&c, "440306199207080026", "李娜").await;
    let flags = c.engine().fence_flags("2000-01-01").await.unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].kind, FenceKind::AfterHours);
    assert!(flags[0].detail.contains("23:40"), "{}", flags[0].detail);
}

/// A visit a strict center accepts (the demo institution's doctor and a main diagnosis).
fn demo_visit() -> nhsa::visit::Visit {
    nhsa::visit::Visit::demo("MZ1", "2026-12-01 08:30:00")
}

/// An account locked at the institution's hub while its cashier is signed in: the next
/// check signs them out and says so, and they cannot sign in again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_from_the_hub_signs_the_cashier_out_where_they_are_signed_in() {
    let f = counter(Duration::from_secs(3600)).await;
    let c = &f.counter;
    let mut events = c.subscribe();
    c.sign_in("C002", "cashier-pass-2").await.unwrap();
    assert_eq!(c.end_if_locked().await.unwrap(), None, "active: stays");
    let l = &c.engine().ledger;
    let now = chrono::Local::now().naive_local();
    let hash = ledger::hash_new_password("C002", "cashier-pass-2").unwrap();
    l.put_hub_operator("C002", "乙", Role::Cashier, &hash, false, now)
        .await
        .unwrap();
    assert_eq!(c.end_if_locked().await.unwrap().as_deref(), Some("C002"));
    assert!(c.signed().await.is_none());
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(CounterEvent::SessionEnded { operator, .. }) = events.recv().await {
                return operator;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(ended, "C002");
    let again = c.sign_in("C002", "cashier-pass-2").await.unwrap_err();
    assert_eq!(again.kind, ErrorCode::Auth, "{again:?}");
}
