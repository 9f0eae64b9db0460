//! The network drops: the counter keeps taking patients, the queue replays
//! in order when the center is back, each item exactly once, and the
//! difference between what was collected and the settlement is shown.
use std::process::Command;

mod common;
use common::{checkout_cash, checkout_offline, free_port, json_of, yibao, yibao_as, Sim};

fn sim_at(port: u16, db: &std::path::Path) -> Sim {
    Sim::start(&format!("127.0.0.1:{port}"), db, &[])
}

#[test]
fn offline_checkouts_queue_and_replay_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    // Two patients while the center is down: the whole bill is collected as self-pay.
    let mut ids = Vec::new();
    for (certno, name) in [
        ("44030519850312001X", "张伟"),
        ("440306199207080026", "李娜"),
    ] {
        let v = checkout_offline(
            &url,
            &db,
            &[
                "--qr",
                "0113454315623718926786440000",
                "--certno",
                certno,
                "--name",
                name,
            ],
        );
        assert_eq!(v["stage"], "offline_queued");
        assert_eq!(
            v["payments"][0]["amount"], "354.00",
            "the whole bill as self-pay"
        );
        ids.push(v["outbox_id"].as_str().unwrap().to_string());
    }
    // Sync while still down: deferred, nothing lost.
    let out = yibao_as(&db, "C001")
        .args(["queue", "sync", "--center", &url, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = json_of(
        &yibao()
            .args(["queue", "status", "--center", &url, "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    let items = status["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("连接不上"),
        "{}",
        items[0]
    );

    // The center comes back.
    let _sim = sim_at(port, &dir.path().join("sim.db"));
    // `queue sync` is the cashier's retry: it does not wait for the backoff. Both replay, in order.
    let r = json_of(
        &yibao_as(&db, "C001")
            .args(["queue", "sync", "--center", &url, "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    assert_eq!(r["done"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["done"][0], ids[0].as_str());
    // Employee: 354.00 collected, 34.00 due after settlement → refund 320.00. Resident: refund too.
    let adj = r["adjustments"].as_array().unwrap();
    assert_eq!(adj.len(), 2, "{r}");
    assert_eq!(adj[0][1], "-320.00");
    // Exactly once: another sync does nothing.
    let again = json_of(
        &yibao_as(&db, "C001")
            .args(["queue", "sync", "--center", &url, "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    assert!(again["done"].as_array().unwrap().is_empty());
    let status = json_of(
        &yibao()
            .args(["queue", "status", "--center", &url, "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    assert_eq!(status["open_adjustments"].as_array().unwrap().len(), 2);
    assert!(status["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["state"] == "done"));
}

#[test]
fn a_settled_checkout_gives_a_receipt_pdf_and_a_refund_receipt() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _sim = sim_at(port, &dir.path().join("sim.db"));
    let v = checkout_cash(&url, &db, &["--given", "100", "--qr", "44030519850312001X"]);
    let setl = v["setl_id"].as_str().unwrap().to_string();
    let pdf = dir.path().join("r.pdf");
    let st = yibao()
        .args([
            "receipt",
            "--setl-id",
            &setl,
            "--layout",
            "a5",
            "--reprint",
            "-o",
        ])
        .arg(&pdf)
        .arg("--db")
        .arg(&db)
        .status()
        .unwrap();
    assert!(st.success());
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("人民币叁佰伍拾肆元整")
            && text.contains(&setl)
            && text.contains("补打")
            && text.contains("张*"),
        "{text}"
    );
    assert!(
        text.contains("34.00") && text.contains("250.70") && text.contains("69.30"),
        "{text}"
    );
}

#[test]
fn the_day_reconciles_with_the_center_and_the_drawer() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let _sim = sim_at(port, &dir.path().join("sim.db"));
    for certno in ["44030519850312001X", "440303197811230037"] {
        checkout_cash(&url, &db, &["--given", "500", "--qr", certno]);
    }
    // Employee pays 34.00 cash, the low-balance employee 341.50 (354 − 69.30 fund − 12.50 account... as the center says).
    let r = yibao_as(&db, "C001")
        .args(["reconcile", "--center", &url, "--float", "200", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let v = json_of(&r);
    assert_eq!(v["center_balanced"], true, "{v}");
    assert_eq!(v["groups"][0]["group"]["count"], 2);
    let expected = v["drawer"]["cash_expected"].as_str().unwrap().to_string();
    // The drawer counted 10 yuan short; the report for finance goes to a CSV file too.
    let short = money::Fen::parse(&expected).unwrap() - money::Fen::yuan(10);
    let csv = db.with_file_name("day.csv");
    let r = yibao_as(&db, "C001")
        .args([
            "reconcile",
            "--center",
            &url,
            "--float",
            "200",
            "--cash-counted",
            &short.to_string(),
            "--csv",
        ])
        .arg(&csv)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(5));
    assert_eq!(json_of(&r)["drawer"]["cash_variance"], "-10.00");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let row = text
        .lines()
        .find(|l| l.starts_with("现金（含备用金）"))
        .expect("the cash row");
    assert_eq!(row, format!("现金（含备用金）,{expected},{short},-10.00"));
    assert!(text.contains("310,11,"), "{text}");
}

/// The center is down: the patient leaves with a fee statement that says what was
/// collected, that the settlement is queued, and that it serves for 手工报销 should the
/// settlement never be made (rendered and read back).
#[test]
fn an_offline_collection_prints_a_statement_for_manual_reimbursement() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ledger.db");
    let url = format!("http://127.0.0.1:{}", free_port());
    let v = checkout_offline(
        &url,
        &db,
        &[
            "--qr",
            "0113454315623718926786440000",
            "--certno",
            "44030519850312001X",
            "--name",
            "张伟",
        ],
    );
    let id = v["checkout_id"].as_str().unwrap();
    let pdf = dir.path().join("statement.pdf");
    let st = yibao()
        .args(["receipt", "--checkout", id, "-o"])
        .arg(&pdf)
        .arg("--db")
        .arg(&db)
        .status()
        .unwrap();
    assert!(st.success());
    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("门诊费用清单（离线收费）")
            && text.contains("手工报销")
            && text.contains("排队")
            && text.contains("354.00")
            && text.contains("人民币叁佰伍拾肆元整"),
        "{text}"
    );
}
