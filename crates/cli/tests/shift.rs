//! A shift (交班) used by two cashiers in turn: opened with a float, cash taken out,
//! handed over, closed with a blind count one yuan short; the 交班单 adds up each
//! cashier's channels and the drawer, and its PDF reads back (rendered with pdftotext).
use std::process::Command;

use serde_json::Value;

mod common;
use common::{add_users, checkout_b1a_as, json_of, session, with_stdin, yibao, Sim};

fn fen(v: &Value) -> i64 {
    money::Fen::parse(v.as_str().unwrap_or("0")).unwrap().0
}

fn as_token(token: &str) -> Command {
    let mut c = yibao();
    c.env("YIBAO_SESSION", token);
    c
}

fn checkout_cash(s: &Sim, db: &std::path::Path, token: &str) -> i64 {
    let out = checkout_b1a_as(as_token(token), &s.url, db, &["--qr", "44030519850312001X"]);
    let v = json_of(&out);
    assert!(out.status.success(), "{v}");
    v["payments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["channel"] == "cash")
        .map(|p| fen(&p["amount"]))
        .sum()
}

#[test]
fn two_cashiers_share_a_shift_and_the_handover_sheet_shows_the_shortfall() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    let a = session(&db, "C001");
    add_users(&db, &[("C002", "赵收费", "cashier", "cashier-pass-2")]);
    let mut c = yibao();
    c.args(["login", "--operator", "C002", "--db"]).arg(&db);
    let b = String::from_utf8(with_stdin(c, "cashier-pass-2\n").stdout)
        .unwrap()
        .trim()
        .to_string();

    let shift = |token: &str, args: &[&str]| {
        let out = as_token(token)
            .arg("shift")
            .args(args)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    shift(&a, &["open", "--float", "200.00"]);
    // A second open shift is refused.
    let again = as_token(&a)
        .args(["shift", "open", "--float", "1", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    let cash_a = checkout_cash(&s, &db, &a);
    shift(&a, &["cash", "--out", "50.00", "--note", "交财务"]);
    // C001 hands over to C002, who confirms with their password.
    let mut c = as_token(&a);
    c.args([
        "shift",
        "handover",
        "--to",
        "C002",
        "--counted",
        "150.00",
        "--db",
    ])
    .arg(&db);
    let out = with_stdin(c, "cashier-pass-2\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cash_b = checkout_cash(&s, &db, &b);

    let expected = 20_000 + cash_a + cash_b - 5_000;
    let counted = money::Fen(expected - 100).to_string();
    let pdf = dir.path().join("handover.pdf");
    let r = shift(
        &b,
        &["close", "--counted", &counted, "-o", pdf.to_str().unwrap()],
    );
    assert_eq!(fen(&r["expected_cash"]), expected, "{r}");
    assert_eq!(r["variance"], "-1.00", "{r}");
    let parts = r["cashiers"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{r}");
    assert!(parts.iter().all(|p| p["checkouts"] == 1), "{r}");
    assert_eq!(fen(&r["cash"]), cash_a + cash_b);
    assert_eq!(r["handovers"].as_array().unwrap().len(), 1);

    let text = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("收费员交班单")
            && text.contains("短款")
            && text.contains("C001")
            && text.contains("C002")
            && text.contains("¥1.00")
            && text.contains("备用金"),
        "{text}"
    );
}
