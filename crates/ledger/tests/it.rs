//! Ledger behaviour on real SQLite files.
use chrono::{NaiveDate, NaiveDateTime};
use ledger::*;
use money::Fen;
use serde_json::json;
use sqlx::Connection;

fn t(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
}

async fn fresh() -> (tempfile::TempDir, Ledger, LedgerKey) {
    let dir = tempfile::tempdir().unwrap();
    let key = LedgerKey::load_or_create(&dir.path().join("ledger.key")).unwrap();
    let l = Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    l.set_counter_no(1).await.unwrap();
    (dir, l, key)
}

fn record(id: &str, op: &str, state: CheckoutState, now: chrono::NaiveDateTime) -> CheckoutRecord {
    let mut c = CheckoutRecord::new(id, op, now);
    c.state = state;
    c
}

async fn raw(path: &std::path::Path) -> sqlx::SqliteConnection {
    sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_text_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("notes.db");
    std::fs::write(&p, "这不是数据库 — just some notes\n".repeat(50)).unwrap();
    let before = std::fs::read(&p).unwrap();
    let err = Ledger::open(&p, &LedgerKey::generate()).await.unwrap_err();
    assert_eq!(err.code(), "ledger_not_sqlite", "{err}");
    assert!(err.to_string().contains("not a Yibao ledger"));
    assert_eq!(std::fs::read(&p).unwrap(), before);
}

#[tokio::test]
async fn a_damaged_database_is_refused_and_left_untouched() {
    let (dir, l, key) = fresh().await;
    l.create_operator(
        "c1",
        "收银员甲",
        Role::Cashier,
        "secret-1",
        t("2026-11-25 08:00:00"),
    )
    .await
    .unwrap();
    l.close().await;
    let p = dir.path().join("ledger.db");
    // Checkpoint so everything is in the main file, then smash pages after the header.
    {
        let mut c = raw(&p).await;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let mut bytes = std::fs::read(&p).unwrap();
    for b in bytes.iter_mut().skip(100).take(3000) {
        *b = 0xA5;
    }
    std::fs::write(&p, &bytes).unwrap();
    let err = Ledger::open(&p, &key).await.unwrap_err();
    assert!(
        matches!(err.code(), "ledger_corrupt" | "ledger_not_sqlite"),
        "{err}"
    );
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "never overwritten");
}

#[tokio::test]
async fn the_wrong_key_is_refused_and_the_key_file_is_private() {
    let (dir, l, _key) = fresh().await;
    l.close().await;
    let err = Ledger::open(&dir.path().join("ledger.db"), &LedgerKey::generate())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ledger_wrong_key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ledger.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Reading the same key file again gives the same key.
    let k2 = LedgerKey::load_or_create(&dir.path().join("ledger.key")).unwrap();
    Ledger::open(&dir.path().join("ledger.db"), &k2)
        .await
        .unwrap();
}

#[tokio::test]
async fn personal_data_is_not_stored_in_clear() {
    let (dir, l, key) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "王收银", Role::Cashier, "secret-1", now)
        .await
        .unwrap();
    let mut ck = record("ck-1", "c1", CheckoutState::Resolved, now);
    ck.person = Some(json!({"psn_name": "李四海", "certno": "440301195501011234"}));
    l.save_checkout(&ck, "c1", now).await.unwrap();
    l.close().await;
    let mut c = raw(&dir.path().join("ledger.db")).await;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut c)
        .await
        .unwrap();
    c.close().await.unwrap();
    let bytes = std::fs::read(dir.path().join("ledger.db")).unwrap();
    let hay = String::from_utf8_lossy(&bytes);
    for secret in ["李四海", "440301195501011234", "王收银"] {
        assert!(!hay.contains(secret), "{secret} found in clear");
    }
    let l = Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    let back = l.checkout("ck-1").await.unwrap().unwrap();
    assert_eq!(back.person.unwrap()["psn_name"], "李四海");
    assert_eq!(l.operator("c1").await.unwrap().unwrap().name, "王收银");
}

#[tokio::test]
async fn passwords_are_hashed_and_lock_out_after_five_failures() {
    let (dir, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("s1", "主管", Role::Supervisor, "super-pass", now)
        .await
        .unwrap();
    l.create_operator("c1", "收银", Role::Cashier, "cash-pass", now)
        .await
        .unwrap();
    assert_eq!(
        l.create_operator("c1", "x", Role::Cashier, "cash-pass", now)
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
    assert_eq!(
        l.create_operator("c2", "x", Role::Cashier, "123", now)
            .await
            .unwrap_err()
            .code(),
        "validation"
    );
    let mut c = raw(&dir.path().join("ledger.db")).await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM operators WHERE id = 's1'")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("super-pass"));

    assert_eq!(
        l.verify_password("s1", "super-pass", now)
            .await
            .unwrap()
            .role,
        Role::Supervisor
    );
    // A cashier cannot confirm a refund.
    let e = l
        .confirm_supervisor("c1", "cash-pass", now)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "not_supervisor");
    assert!(e.message_zh().contains("不是主管"));
    for i in 1..=4 {
        let e = l.verify_password("s1", "wrong", now).await.unwrap_err();
        assert!(
            matches!(e, Error::Auth(AuthError::WrongPassword { remaining }) if remaining == 5 - i)
        );
    }
    let e = l.verify_password("s1", "wrong", now).await.unwrap_err();
    assert_eq!(e.code(), "locked");
    // Locked even with the right password …
    let e = l
        .verify_password("s1", "super-pass", t("2026-11-25 08:10:00"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "locked");
    // … until the lock-out ends.
    l.verify_password("s1", "super-pass", t("2026-11-25 08:16:00"))
        .await
        .unwrap();
    // An unknown id gets the same answer as a wrong password (and is counted the same).
    let unknown = l.verify_password("nobody", "x", now).await.unwrap_err();
    let wrong = l.verify_password("c1", "x", now).await.unwrap_err();
    assert_eq!(unknown.code(), "wrong_password");
    assert_eq!(unknown.message_zh(), wrong.message_zh());
}

#[tokio::test]
async fn unknown_ids_cost_as_much_as_known_ones() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .unwrap();
    // Both run argon2 once. Before, an unknown id answered in 12 ms against 64 ms for
    // a wrong password (no hashing at all): now the fastest of several interleaved tries
    // of each is within a factor of two (the margin absorbs a loaded machine; a path
    // without the hash is five times faster).
    let mut known = std::time::Duration::MAX;
    let mut unknown = std::time::Duration::MAX;
    for i in 0..6 {
        for (id, best) in [("c1", &mut known), ("nobody", &mut unknown)] {
            let s = std::time::Instant::now();
            let _ = l
                .verify_password_at(
                    id,
                    "x-wrong-pass",
                    AuthSource::Cli,
                    now + chrono::Duration::hours(i),
                )
                .await;
            *best = (*best).min(s.elapsed());
        }
    }
    assert!(
        unknown * 2 >= known,
        "unknown id {unknown:?} vs known {known:?}"
    );
}

#[tokio::test]
async fn failures_at_the_shell_do_not_lock_the_window() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("s1", "主管", Role::Supervisor, "super-pass-9", now)
        .await
        .unwrap();
    for _ in 0..MAX_FAILED_ATTEMPTS {
        let _ = l
            .verify_password_at("s1", "guess", AuthSource::Cli, now)
            .await;
    }
    assert_eq!(
        l.verify_password_at("s1", "super-pass-9", AuthSource::Cli, now)
            .await
            .unwrap_err()
            .code(),
        "locked"
    );
    // The supervisor still signs in at the counter's window.
    l.verify_password_at("s1", "super-pass-9", AuthSource::Window, now)
        .await
        .unwrap();
    let ops = l.operators().await.unwrap();
    assert!(
        ops[0].locked_until.is_some(),
        "the lock shows in the account list"
    );
}

#[tokio::test]
async fn sessions_last_one_shift_and_end_at_logout() {
    let (dir, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .unwrap();
    assert_eq!(
        l.open_session("c1", "wrong-pass-1", AuthSource::Cli, now)
            .await
            .unwrap_err()
            .code(),
        "wrong_password"
    );
    let (token, s) = l
        .open_session("c1", "mei-tian-8-dian", AuthSource::Cli, now)
        .await
        .unwrap();
    assert_eq!(s.operator.id, "c1");
    assert_eq!(
        l.session(&token, now).await.unwrap().operator.role,
        Role::Cashier
    );
    // The token is not in the file.
    let bytes = std::fs::read(dir.path().join("ledger.db")).unwrap();
    let wal = std::fs::read(dir.path().join("ledger.db-wal")).unwrap_or_default();
    let needle = token.as_bytes();
    for b in [&bytes, &wal] {
        assert!(!b.windows(needle.len()).any(|w| w == needle));
    }
    let later = now + chrono::Duration::hours(SESSION_HOURS);
    assert_eq!(
        l.session(&token, later).await.unwrap_err().code(),
        "no_session"
    );
    assert_eq!(
        l.session("ybs1.forged", now).await.unwrap_err().code(),
        "no_session"
    );
    l.end_session(&token, now).await.unwrap();
    assert_eq!(
        l.session(&token, now).await.unwrap_err().code(),
        "no_session"
    );
}

#[tokio::test]
async fn only_the_first_account_is_made_without_anyone_signed_in() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    assert_eq!(
        l.add_operator(None, "c1", "收银", Role::Cashier, "mei-tian-8-dian", now)
            .await
            .unwrap_err()
            .code(),
        "validation"
    );
    let sup = l
        .add_operator(None, "s1", "主管", Role::Supervisor, "super-pass-9", now)
        .await
        .unwrap();
    assert_eq!(
        l.add_operator(None, "s2", "x", Role::Supervisor, "super-pass-9", now)
            .await
            .unwrap_err()
            .code(),
        "no_session"
    );
    let cashier = l
        .add_operator(
            Some(&sup),
            "c1",
            "收银",
            Role::Cashier,
            "mei-tian-8-dian",
            now,
        )
        .await
        .unwrap();
    assert_eq!(
        l.add_operator(
            Some(&cashier),
            "s9",
            "x",
            Role::Supervisor,
            "super-pass-9",
            now
        )
        .await
        .unwrap_err()
        .code(),
        "forbidden"
    );
    assert_eq!(
        l.add_operator(Some(&sup), "a1", "信息科", Role::Admin, "super-pass-9", now)
            .await
            .unwrap_err()
            .code(),
        "forbidden"
    );
}

#[tokio::test]
async fn sign_in_is_per_operator_and_day() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    let day = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    l.create_operator("c1", "收银", Role::Cashier, "cash-pass", now)
        .await
        .unwrap();
    assert!(l.sign_in_for("c1", day).await.unwrap().is_none());
    l.record_sign_in("c1", day, "359754", "2026-11-25 08:00:00", now)
        .await
        .unwrap();
    assert_eq!(
        l.sign_in_for("c1", day).await.unwrap().unwrap().sign_no,
        "359754"
    );
    assert!(l
        .sign_in_for("c1", day.succ_opt().unwrap())
        .await
        .unwrap()
        .is_none());
    l.record_sign_out("c1", day, now).await.unwrap();
    assert!(l
        .sign_in_for("c1", day)
        .await
        .unwrap()
        .unwrap()
        .signed_out_at
        .is_some());
    assert_eq!(
        l.record_sign_in("ghost", day, "1", "x", now)
            .await
            .unwrap_err()
            .code(),
        "unknown_operator"
    );
}

#[tokio::test]
async fn msgids_never_repeat_across_restarts() {
    let (dir, l, key) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    let mut seen = std::collections::HashSet::new();
    for _ in 0..20 {
        let m = l.next_msgid("H44030300001", now).await.unwrap();
        assert_eq!(m.len(), 30);
        assert!(m.starts_with("H4403030000120261125080000"));
        assert!(seen.insert(m));
    }
    l.close().await;
    let l = Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    for _ in 0..20 {
        assert!(seen.insert(l.next_msgid("H44030300001", now).await.unwrap()));
    }
}

#[tokio::test]
async fn calls_are_recorded_before_sending_and_open_ones_are_listed() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "cash-pass", now)
        .await
        .unwrap();
    l.save_checkout(
        &record("ck", "c1", CheckoutState::Presettled, now),
        "c1",
        now,
    )
    .await
    .unwrap();
    let m1 = l
        .begin_call(
            "H44030300001",
            Some("ck"),
            None,
            "2207",
            None,
            &json!({"data": {"psn_no": "1"}}),
            "c1",
            now,
        )
        .await
        .unwrap();
    let m2 = l
        .begin_call(
            "H44030300001",
            Some("ck"),
            None,
            "1101",
            None,
            &json!({}),
            "c1",
            now,
        )
        .await
        .unwrap();
    l.finish_call(
        &m2,
        CallState::Ok,
        Some(&json!({"baseinfo": {}})),
        None,
        None,
        "c1",
        now,
    )
    .await
    .unwrap();
    let open = l.open_calls(&["2207", "2208"]).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].msgid, m1);
    assert_eq!(open[0].state, CallState::Pending);
    l.finish_call(
        &m1,
        CallState::InDoubt,
        None,
        Some("timeout"),
        Some("超时"),
        "c1",
        now,
    )
    .await
    .unwrap();
    assert_eq!(
        l.open_calls(&["2207"]).await.unwrap()[0].state,
        CallState::InDoubt
    );
    l.resolve_call(&m1, CallState::Reversed, "2601 ok", "c1", now)
        .await
        .unwrap();
    assert!(l.open_calls(&["2207"]).await.unwrap().is_empty());
}

fn settlement(
    ck: &str,
    msgid: &str,
    setl_id: &str,
    kind: SettlementKind,
    sign: i64,
) -> SettlementRecord {
    SettlementRecord {
        setl_id: setl_id.into(),
        checkout_id: ck.into(),
        msgid: msgid.into(),
        kind,
        orig_setl_id: (kind == SettlementKind::Cancel).then(|| "S1".to_string()),
        psn_no: "P1".into(),
        mdtrt_id: "M1".into(),
        insutype: Some("310".into()),
        clr_type: Some("11".into()),
        clr_optins: Some("440300".into()),
        clr_way: Some("1".into()),
        medfee_sumamt: Fen(10_000 * sign),
        fund_pay_sumamt: Fen(6_000 * sign),
        acct_pay: Fen(3_000 * sign),
        acct_mulaid_pay: Fen(0),
        psn_cash_pay: Fen(1_000 * sign),
        hosp_part_amt: Fen(0),
        balc: Some(Fen(50_000)),
        setl_time: Some("2026-11-25 08:01:00".into()),
        cancelled_by: None,
        response: json!({"setlinfo": {}}),
    }
}

#[tokio::test]
async fn settlement_refund_and_totals() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "cash-pass", now)
        .await
        .unwrap();
    let mut ck = record("ck", "c1", CheckoutState::Presettled, now);
    l.save_checkout(&ck, "c1", now).await.unwrap();
    let m = l
        .begin_call(
            "H44030300001",
            Some("ck"),
            None,
            "2207",
            None,
            &json!({}),
            "c1",
            now,
        )
        .await
        .unwrap();
    ck.state = CheckoutState::Settled;
    ck.setl_id = Some("S1".into());
    let pays = [
        NewPayment {
            checkout_id: "ck".into(),
            setl_id: Some("S1".into()),
            channel: PaymentChannel::Fund,
            amount: Fen(6000),
            given: None,
            change: None,
            reference: None,
            note: None,
        },
        NewPayment {
            checkout_id: "ck".into(),
            setl_id: Some("S1".into()),
            channel: PaymentChannel::Account,
            amount: Fen(3000),
            given: None,
            change: None,
            reference: None,
            note: None,
        },
    ];
    l.record_settlement(
        &settlement("ck", &m, "S1", SettlementKind::Settle, 1),
        &pays,
        &ck,
        "c1",
        now,
    )
    .await
    .unwrap();
    assert_eq!(l.call(&m).await.unwrap().unwrap().state, CallState::Ok);
    // Recording the same setl_id twice is refused.
    assert_eq!(
        l.record_settlement(
            &settlement("ck", &m, "S1", SettlementKind::Settle, 1),
            &[],
            &ck,
            "c1",
            now
        )
        .await
        .unwrap_err()
        .code(),
        "conflict"
    );
    ck.state = CheckoutState::Done;
    l.record_payment(
        &NewPayment {
            checkout_id: "ck".into(),
            setl_id: Some("S1".into()),
            channel: PaymentChannel::Cash,
            amount: Fen(1000),
            given: Some(Fen(2000)),
            change: Some(Fen(1000)),
            reference: None,
            note: None,
        },
        Some(&ck),
        "c1",
        now,
    )
    .await
    .unwrap();
    let tot = l.totals().await.unwrap();
    assert_eq!(
        (tot.settle_count, tot.medfee_sumamt, tot.collected_cash),
        (1, Fen(10_000), Fen(1000))
    );

    let m2 = l
        .begin_call(
            "H44030300001",
            Some("ck"),
            None,
            "2208",
            None,
            &json!({}),
            "c1",
            now,
        )
        .await
        .unwrap();
    ck.state = CheckoutState::Refunded;
    l.record_settlement(
        &settlement("ck", &m2, "S1-R", SettlementKind::Cancel, -1),
        &[],
        &ck,
        "c1",
        now,
    )
    .await
    .unwrap();
    l.record_payment(
        &NewPayment {
            checkout_id: "ck".into(),
            setl_id: Some("S1-R".into()),
            channel: PaymentChannel::Cash,
            amount: Fen(-1000),
            given: None,
            change: None,
            reference: None,
            note: Some("退现金".into()),
        },
        None,
        "c1",
        now,
    )
    .await
    .unwrap();
    let tot = l.totals().await.unwrap();
    assert_eq!((tot.settle_count, tot.cancel_count), (1, 1));
    assert_eq!(
        (tot.medfee_sumamt, tot.acct_pay, tot.collected_cash),
        (Fen(0), Fen(0), Fen(0))
    );
    assert_eq!(
        l.settlement("S1")
            .await
            .unwrap()
            .unwrap()
            .cancelled_by
            .as_deref(),
        Some("S1-R")
    );
    assert_eq!(l.payments_of_checkout("ck").await.unwrap().len(), 4);
    assert!(l.verify_audit().await.unwrap().ok);
}

#[tokio::test]
async fn outbox_replays_in_order_and_only_one_drainer_holds_the_lease() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    let a = l
        .enqueue("signout", None, &json!({"n": 1}), "c1", now)
        .await
        .unwrap();
    let b = l
        .enqueue("signout", None, &json!({"n": 2}), "c1", now)
        .await
        .unwrap();
    assert!(a.seq < b.seq && a.id != b.id);
    assert_eq!(l.outbox_head().await.unwrap().unwrap().id, a.id);
    assert!(l
        .acquire_outbox_lease("p1", now, t("2026-11-25 08:01:00"))
        .await
        .unwrap());
    assert!(!l
        .acquire_outbox_lease("p2", now, t("2026-11-25 08:01:00"))
        .await
        .unwrap());
    // Expired lease can be taken over.
    assert!(l
        .acquire_outbox_lease("p2", t("2026-11-25 08:02:00"), t("2026-11-25 08:03:00"))
        .await
        .unwrap());
    l.outbox_attempt(&a.id, now).await.unwrap();
    l.outbox_retry_later(&a.id, "网络不可达", t("2026-11-25 08:00:02"), now)
        .await
        .unwrap();
    let head = l.outbox_head().await.unwrap().unwrap();
    assert_eq!((head.id.as_str(), head.attempts), (a.id.as_str(), 1));
    assert_eq!(head.last_error.as_deref(), Some("网络不可达"));
    l.outbox_attempt(&a.id, now).await.unwrap();
    l.outbox_done(&a.id, &json!({"ok": true}), None, "c1", now)
        .await
        .unwrap();
    assert_eq!(
        l.outbox_done(&a.id, &json!({}), None, "c1", now)
            .await
            .unwrap_err()
            .code(),
        "conflict"
    );
    assert_eq!(l.outbox_head().await.unwrap().unwrap().id, b.id);
    l.outbox_fail(&b.id, "电子凭证二维码已过期", "c1", now)
        .await
        .unwrap();
    assert!(l.outbox_head().await.unwrap().is_none());
    l.outbox_retry_now(&b.id, "c1", now).await.unwrap();
    assert_eq!(l.outbox_head().await.unwrap().unwrap().id, b.id);
    assert_eq!(l.outbox(true).await.unwrap().len(), 2);
    assert_eq!(l.outbox(false).await.unwrap().len(), 1);
}

#[tokio::test]
async fn audit_verify_finds_edited_and_deleted_entries() {
    let (dir, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    for i in 0..6 {
        l.audit("c1", "test.step", &json!({"i": i, "金额": "12.30"}), now)
            .await
            .unwrap();
    }
    let rep = l.verify_audit().await.unwrap();
    assert!(rep.ok && rep.entries == 6, "{rep:?}");
    // The log refuses edits through SQL …
    let p = dir.path().join("ledger.db");
    let mut c = raw(&p).await;
    assert!(
        sqlx::query("UPDATE audit_log SET actor = 'x' WHERE seq = 2")
            .execute(&mut c)
            .await
            .is_err()
    );
    assert!(sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(&mut c)
        .await
        .is_err());
    // … and someone who drops the guard is still caught.
    sqlx::query("DROP TRIGGER audit_log_no_update")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("DROP TRIGGER audit_log_no_delete")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query(r#"UPDATE audit_log SET detail_json = '{"i":2,"金额":"1.23"}' WHERE seq = 3"#)
        .execute(&mut c)
        .await
        .unwrap();
    let rep = l.verify_audit().await.unwrap();
    assert!(!rep.ok);
    assert_eq!(rep.problems[0].seq, 3);
    assert_eq!(rep.problems[0].kind, "edited");

    sqlx::query("DELETE FROM audit_log WHERE seq = 5")
        .execute(&mut c)
        .await
        .unwrap();
    let rep = l.verify_audit().await.unwrap();
    assert!(
        rep.problems
            .iter()
            .any(|p| p.seq == 6 && p.kind == "broken_link"),
        "{rep:?}"
    );

    sqlx::query("DELETE FROM audit_log WHERE seq = 6")
        .execute(&mut c)
        .await
        .unwrap();
    let rep = l.verify_audit().await.unwrap();
    assert!(
        rep.problems.iter().any(|p| p.kind == "truncated"),
        "{rep:?}"
    );
}

#[tokio::test]
async fn receipts_and_adjustments() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "cash-pass", now)
        .await
        .unwrap();
    l.save_checkout(&record("ck", "c1", CheckoutState::Done, now), "c1", now)
        .await
        .unwrap();
    assert!(l.receipt_json("S9").await.unwrap().is_none());
    l.save_receipt("S9", "ck", "settlement", &json!({"total": "12.30"}), now)
        .await
        .unwrap();
    assert_eq!(
        l.receipt_json("S9").await.unwrap().unwrap()["total"],
        "12.30"
    );
    l.set_print_status("S9", "printed", "c1", now)
        .await
        .unwrap();
    let id = l
        .add_adjustment("ck", Fen(-250), "结算与预估差额：退还患者", "c1", now)
        .await
        .unwrap();
    assert_eq!(l.adjustments(true).await.unwrap().len(), 1);
    l.resolve_adjustment(
        id,
        &NewPayment {
            checkout_id: "ck".into(),
            setl_id: None,
            channel: PaymentChannel::Cash,
            amount: Fen(-250),
            given: None,
            change: None,
            reference: None,
            note: None,
        },
        "c1",
        now,
    )
    .await
    .unwrap();
    assert!(l.adjustments(true).await.unwrap().is_empty());
    assert_eq!(l.totals().await.unwrap().collected_cash, Fen(-250));
}

/// docs/domain.md §10: the counter's number is two digits of every msgid; without one
/// nothing can be sent.
#[tokio::test]
async fn msgids_carry_the_counter_number_and_none_is_made_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let key = LedgerKey::load_or_create(&dir.path().join("k")).unwrap();
    let l = Ledger::open(&dir.path().join("a.db"), &key).await.unwrap();
    let now = t("2026-12-01 08:00:00");
    assert!(matches!(
        l.next_msgid("H44030300001", now).await,
        Err(Error::NoCounterNo)
    ));
    assert!(l.set_counter_no(0).await.is_err());
    assert!(l.set_counter_no(100).await.is_err());
    l.set_counter_no(37).await.unwrap();
    let m = l.next_msgid("H44030300001", now).await.unwrap();
    assert_eq!(m.len(), 30);
    assert_eq!(&m[26..28], "37");
    assert_eq!(counter_of_msgid(&m), Some(37));
    // Two counters of one institution in the same second never share a msgid.
    let lb = Ledger::open(&dir.path().join("b.db"), &key).await.unwrap();
    lb.set_counter_no(38).await.unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..100 {
        assert!(seen.insert(l.next_msgid("H44030300001", now).await.unwrap()));
        assert!(seen.insert(lb.next_msgid("H44030300001", now).await.unwrap()));
    }
}

/// A hundred and one calls in one second: the 2-digit sequence has only a hundred
/// values, so the 101st is refused rather than given a msgid already used.
#[tokio::test]
async fn the_hundred_and_first_call_in_one_second_is_refused() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-12-01 08:00:00");
    for i in 0..100 {
        l.begin_call(
            "H44030300001",
            None,
            None,
            "1101",
            None,
            &json!({}),
            "c1",
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    let r = l
        .begin_call(
            "H44030300001",
            None,
            None,
            "1101",
            None,
            &json!({}),
            "c1",
            now,
        )
        .await;
    assert!(matches!(r, Err(Error::Conflict(_))), "{r:?}");
    let later = t("2026-12-01 08:00:01");
    l.begin_call(
        "H44030300001",
        None,
        None,
        "1101",
        None,
        &json!({}),
        "c1",
        later,
    )
    .await
    .unwrap();
}

/// Defect: a copy of the main file alone (a naive backup, no -wal) lost every
/// settlement. After a clean close the main file holds everything.
#[tokio::test]
async fn after_a_clean_close_the_main_file_alone_holds_everything() {
    let (dir, l, key) = fresh().await;
    let now = t("2026-12-01 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "cash-pass-77", now)
        .await
        .unwrap();
    l.save_checkout(&record("ck", "c1", CheckoutState::Done, now), "c1", now)
        .await
        .unwrap();
    l.close().await;
    let copy = dir.path().join("copy.db");
    std::fs::copy(dir.path().join("ledger.db"), &copy).unwrap();
    let wal = dir.path().join("ledger.db-wal");
    assert!(
        !wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0,
        "the log was checkpointed"
    );
    let c = Ledger::open_read_only(&copy, &key).await.unwrap();
    assert_eq!(c.checkouts(&[], 10).await.unwrap().len(), 1);
    assert_eq!(c.operators().await.unwrap().len(), 1);
}

/// Read-only opening never creates anything, and refuses what is not a ledger.
#[tokio::test]
async fn read_only_opening_creates_nothing_and_refuses_empty_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = LedgerKey::generate();
    let missing = dir.path().join("no/such/ledger.db");
    assert!(matches!(
        Ledger::open_read_only(&missing, &key).await,
        Err(Error::Missing { .. })
    ));
    assert!(!dir.path().join("no").exists());
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    assert!(Ledger::open_read_only(&empty, &key).await.is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// One process owns a ledger at a time: a second process is refused with who holds it.
#[tokio::test]
async fn a_second_process_cannot_open_a_ledger_in_use() {
    let (dir, _l, _) = fresh().await;
    let lock = lock_path_for(&dir.path().join("ledger.db"));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock)
        .unwrap();
    // This process holds it: another open file description of the lock cannot take it,
    // exactly as another process could not.
    assert!(matches!(
        f.try_lock(),
        Err(std::fs::TryLockError::WouldBlock)
    ));
    let holder = std::fs::read_to_string(&lock).unwrap();
    assert_eq!(holder.trim(), std::process::id().to_string());
}

/// A checkout is worked on by one step at a time inside the process.
#[tokio::test]
async fn a_claimed_checkout_cannot_be_claimed_again_until_released() {
    let (_d, l, _) = fresh().await;
    let c = l.claim("ck").unwrap();
    assert!(l.is_claimed("ck"));
    assert!(matches!(l.claim("ck"), Err(Error::Busy(_))));
    let other = l.clone();
    assert!(matches!(other.claim("ck"), Err(Error::Busy(_))));
    drop(c);
    assert!(!l.is_claimed("ck"));
    l.claim("ck").unwrap();
}

/// Issue 10 bug 6 / issue 12: one password rule for every shell (the window refused
/// fewer than 8 characters while `yibao user add` took 6); common, blank and
/// id-shaped passwords are refused too.
#[tokio::test]
async fn one_password_rule_for_every_shell() {
    let (_d, l, _) = fresh().await;
    let now = t("2026-12-01 08:00:00");
    for bad in [
        "123456",
        "abc1234",
        "        ",
        "12345678",
        "88888888",
        "password",
        "aaaaaaaaaa",
        "C00123456",
    ] {
        assert!(
            l.create_operator("C001", "收银", Role::Cashier, bad, now)
                .await
                .is_err(),
            "{bad:?} was accepted"
        );
        assert!(password_problem("C001", bad).is_some(), "{bad:?}");
    }
    l.create_operator("C001", "收银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .unwrap();
    assert!(l.set_password("C001", "1234567", now).await.is_err());
    assert!(l
        .create_operator("C002", "收\u{7}银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .is_err());
}

/// The attacker of issue 12: has the ledger file (not the key file), knows the scheme.
/// Lowers a cash payment in the payments table *and* in its audit entry, and recomputes
/// the chain with plain SM3 (enough before the chain was keyed).
async fn forge(path: &std::path::Path, lower_to: &str) {
    let mut c = raw(path).await;
    for t in ["audit_log_no_update", "audit_log_no_delete"] {
        let _ = sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(&mut c)
            .await;
    }
    sqlx::query("UPDATE payments SET amount = ? WHERE channel = 'cash'")
        .bind(Fen::parse(lower_to).unwrap().0)
        .execute(&mut c)
        .await
        .unwrap();
    let rows =
        sqlx::query("SELECT seq, time, actor, action, detail_json FROM audit_log ORDER BY seq")
            .fetch_all(&mut c)
            .await
            .unwrap();
    let mut prev = "0".repeat(64);
    for r in rows {
        use sqlx::Row;
        let seq: i64 = r.get(0);
        let (time, actor, action): (String, String, String) = (r.get(1), r.get(2), r.get(3));
        let mut detail: serde_json::Value = serde_json::from_str(&r.get::<String, _>(4)).unwrap();
        if action == "payment.collect" && detail["channel"] == "cash" {
            detail["amount"] = json!(lower_to);
        }
        let canonical = ledger::canonical_json(&json!({
            "seq": seq, "time": time, "actor": actor, "action": action, "detail": detail,
        }));
        let hash = sm_crypto::sm3::sm3_hash(format!("{prev}{canonical}").as_bytes());
        sqlx::query("UPDATE audit_log SET detail_json = ?, prev_hash = ?, hash = ? WHERE seq = ?")
            .bind(ledger::canonical_json(&detail))
            .bind(&prev)
            .bind(&hash)
            .bind(seq)
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query("UPDATE meta SET value = ? WHERE key = 'audit_head'")
            .bind(format!("{seq}:{hash}"))
            .execute(&mut c)
            .await
            .unwrap();
        prev = hash;
    }
}

async fn a_day_with_cash(l: &Ledger, now: NaiveDateTime) {
    l.save_checkout(&record("ck", "c1", CheckoutState::Settled, now), "c1", now)
        .await
        .unwrap();
    l.record_payment(
        &NewPayment {
            checkout_id: "ck".into(),
            setl_id: None,
            channel: PaymentChannel::Cash,
            amount: Fen::parse("186.56").unwrap(),
            given: Some(Fen::parse("200").unwrap()),
            change: Some(Fen::parse("13.44").unwrap()),
            reference: None,
            note: None,
        },
        None,
        "c1",
        now,
    )
    .await
    .unwrap();
}

/// Issue 12: a cash payment lowered from 186.56 to 1.00 and the chain recomputed passed
/// `audit verify`. The chain is keyed now (HMAC-SM3, key not in the file): caught.
#[tokio::test]
async fn a_forged_and_recomputed_chain_is_caught() {
    let (dir, l, _) = fresh().await;
    let now = t("2026-12-01 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .unwrap();
    a_day_with_cash(&l, now).await;
    assert!(l.verify_audit().await.unwrap().ok);
    forge(&dir.path().join("ledger.db"), "1.00").await;
    let rep = l.verify_audit().await.unwrap();
    assert!(!rep.ok, "{rep:?}");
    assert!(rep.problems.iter().any(|p| p.kind == "edited"), "{rep:?}");
}

/// Issue 12: the newest entries deleted and the head moved back, or the whole log
/// emptied, passed `audit verify`. An anchored head (the day's report prints it)
/// catches the first; the money tables checked against the log catch the second.
#[tokio::test]
async fn a_moved_head_and_an_emptied_log_are_caught() {
    let (dir, l, _) = fresh().await;
    let now = t("2026-12-01 08:00:00");
    l.create_operator("c1", "收银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .unwrap();
    a_day_with_cash(&l, now).await;
    let anchored = l.audit_head().await.unwrap().unwrap();
    assert!(l.verify_anchor(&anchored).await.unwrap().is_none());
    let mut c = raw(&dir.path().join("ledger.db")).await;
    for t in ["audit_log_no_update", "audit_log_no_delete"] {
        sqlx::query(&format!("DROP TRIGGER {t}"))
            .execute(&mut c)
            .await
            .unwrap();
    }
    // Cut back the newest entries and move the recorded head with them.
    let (seq, _) = anchored.split_once(':').unwrap();
    let seq: i64 = seq.parse().unwrap();
    sqlx::query("DELETE FROM audit_log WHERE seq >= ?")
        .bind(seq - 1)
        .execute(&mut c)
        .await
        .unwrap();
    let (ns, nh): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            .fetch_one(&mut c)
            .await
            .unwrap();
    sqlx::query("UPDATE meta SET value = ? WHERE key = 'audit_head'")
        .bind(format!("{ns}:{nh}"))
        .execute(&mut c)
        .await
        .unwrap();
    let p = l.verify_anchor(&anchored).await.unwrap().expect("caught");
    assert_eq!(p.kind, "truncated");
    let rep = l.verify_audit().await.unwrap();
    assert!(
        !rep.ok,
        "the money tables hold a payment no entry records: {rep:?}"
    );
    // Every entry gone, head and all.
    sqlx::query("DELETE FROM audit_log")
        .execute(&mut c)
        .await
        .unwrap();
    sqlx::query("DELETE FROM meta WHERE key = 'audit_head'")
        .execute(&mut c)
        .await
        .unwrap();
    let rep = l.verify_audit().await.unwrap();
    assert!(!rep.ok, "{rep:?}");
    assert!(
        rep.problems.iter().any(|p| p.kind == "money_unrecorded"),
        "{rep:?}"
    );
}

/// Keys not beside the data: with an install secret the key file holds the key only
/// wrapped (argon2id → SM4), so a copy of the whole data folder — ledger, WAL and key
/// file, as a backup or a stolen disk without the secret's location — does not open;
/// another counter's secret does not open it either; the right one does, and reads.
#[tokio::test]
async fn a_copied_data_folder_does_not_open_without_the_install_secret() {
    let dir = tempfile::tempdir().unwrap();
    let secret = KeySecret::new(b"install-secret-of-counter-07");
    let key_path = dir.path().join("ledger.db.key");
    let key = LedgerKey::load_or_create_with(&key_path, Some(&secret)).unwrap();
    let file = std::fs::read_to_string(&key_path).unwrap();
    assert!(file.starts_with("yibao-key-v2 wrapped"), "{file}");
    assert!(
        !file.contains(&key.to_hex()),
        "the raw key is in the key file"
    );
    let l = Ledger::open(&dir.path().join("ledger.db"), &key)
        .await
        .unwrap();
    let now = t("2026-11-25 08:00:00");
    l.create_operator("c1", "王收银", Role::Cashier, "mei-tian-8-dian", now)
        .await
        .unwrap();
    l.close().await;

    // The folder, copied elsewhere.
    let copy = tempfile::tempdir().unwrap();
    for f in ["ledger.db", "ledger.db-wal", "ledger.db.key"] {
        let from = dir.path().join(f);
        if from.exists() {
            std::fs::copy(&from, copy.path().join(f)).unwrap();
        }
    }
    let copied_key = copy.path().join("ledger.db.key");
    let e = LedgerKey::load_with(&copied_key, None).unwrap_err();
    assert!(e.to_string().contains("install secret"), "{e}");
    let e = LedgerKey::load_with(
        &copied_key,
        Some(&KeySecret::new(b"install-secret-of-counter-08")),
    )
    .unwrap_err();
    assert!(e.to_string().contains("does not open"), "{e}");
    // Guessing the key from the file is not possible: the only key material is wrapped.
    let opened = LedgerKey::load_with(&copied_key, Some(&secret)).unwrap();
    let l = Ledger::open(&copy.path().join("ledger.db"), &opened)
        .await
        .unwrap();
    assert_eq!(l.operator("c1").await.unwrap().unwrap().name, "王收银");
}

/// A counter hardened after it was installed: its plain key file is wrapped in place
/// the first time the secret is there, and the data stays readable.
#[tokio::test]
async fn a_plain_key_is_wrapped_when_the_secret_arrives() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("ledger.db.key");
    let plain = LedgerKey::load_or_create_with(&key_path, None).unwrap();
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap().trim(),
        plain.to_hex()
    );
    let secret = KeySecret::new(b"install-secret-of-counter-07");
    // Reading (a read-only command) changes nothing; opening to write wraps it.
    LedgerKey::load_with(&key_path, Some(&secret)).unwrap();
    assert_eq!(
        std::fs::read_to_string(&key_path).unwrap().trim(),
        plain.to_hex()
    );
    let again = LedgerKey::load_or_create_with(&key_path, Some(&secret)).unwrap();
    assert_eq!(again.to_hex(), plain.to_hex());
    let file = std::fs::read_to_string(&key_path).unwrap();
    assert!(file.starts_with("yibao-key-v2") && !file.contains(&plain.to_hex()));
    assert!(LedgerKey::load_with(&key_path, None).is_err());
}
