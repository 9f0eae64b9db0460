//! A ledger written by main as of 2026-11-25 (tests/fixtures/ledger-2026-11-25, made with
//! that commit's `yibao`: one settled and paid checkout, one killed while its 2207 was in
//! flight, with the simulator's database of that moment) opens, recovers and settles
//! with today's code.
use serde_json::Value;

mod common;
use common::{json_of, ok_json, yibao, yibao_as, Sim, BILL};

#[test]
fn a_ledger_written_by_the_previous_release_opens_recovers_and_settles() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/ledger-2026-11-25");
    let dir = tempfile::tempdir().unwrap();
    for f in ["ledger.db", "ledger.db.key", "sim.db"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    let db = dir.path().join("ledger.db");
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    assert_eq!(
        s.settlements()
            .iter()
            .filter(|x| x["state"] == "valid")
            .count(),
        2,
        "the center holds both: the paid one and the one whose answer was lost"
    );
    // Its accounts (S001, C001) carry over, passwords and all: C001 signs in. The
    // dictionaries are new (schema 3): the supervisor imports them.
    std::fs::write(db.with_extension("staff"), "").unwrap();
    common::import_dictionaries(&db);
    // The old ledger had no counter number (terminal 0): it is given one, then recovers.
    let r = ok_json(
        &yibao_as(&db, "C001")
            .args(["recover", "--center", &s.url, "--terminal", "3", "--db"])
            .arg(&db)
            .output()
            .unwrap(),
    );
    assert_eq!(r["reversed"].as_array().unwrap().len(), 1, "{r}");
    let valid: Vec<Value> = s
        .settlements()
        .into_iter()
        .filter(|x| x["state"] == "valid")
        .collect();
    assert_eq!(valid.len(), 1);
    // The same patient settles again, and a new one too; the old checkout's records read.
    for certno in ["440306199207080026", "440303197811230037"] {
        let out = yibao_as(&db, "C001")
            .args([
                "checkout",
                "--center",
                &s.url,
                "--operator",
                "C001",
                "--qr",
                certno,
            ])
            .args(["--pay", "cash", "--bill", BILL])
            .args(common::CLINIC)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        let v = json_of(&out);
        assert!(out.status.success(), "{v}");
        assert_eq!(v["stage"], "done");
    }
    assert_eq!(
        s.settlements()
            .iter()
            .filter(|x| x["state"] == "valid")
            .count(),
        3
    );
    let verify = yibao()
        .args(["audit", "verify", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
