//! The national catalogue at the counter (issue "The national catalogue and the
//! hospital's mapping"): synced by version from the simulated center, used by the
//! estimate and the check of 2206; the hospital's mapping refuses an unmapped item
//! before 2204.
use serde_json::{json, Value};

mod common;
use common::{json_of, sqlite, yibao_as, Sim, CLINIC};

fn sync(s: &Sim, db: &std::path::Path) -> Value {
    let out = yibao_as(db, "C001")
        .args(["catalog", "sync", "--center", &s.url, "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "one JSON object: {text}");
    serde_json::from_str(&text).unwrap()
}

fn bill(dir: &std::path::Path, lines: Value) -> std::path::PathBuf {
    let p = dir.join(format!("bill-{}.json", lines.to_string().len()));
    std::fs::write(&p, json!({"lines": lines}).to_string()).unwrap();
    p
}

fn amoxicillin() -> Value {
    json!([{"med_list_codg": "XJ01CAA040A001010100001", "name": "阿莫西林胶囊",
            "med_chrgitm_type": "09", "chrgitm_lv": "01", "cnt": "2", "pric": "25.00"}])
}

fn blood_test() -> Value {
    json!([{"med_list_codg": "002501000010000", "name": "血常规",
            "med_chrgitm_type": "04", "chrgitm_lv": "01", "cnt": "1", "pric": "20.00"}])
}

fn checkout(s: &Sim, db: &std::path::Path, bill: &std::path::Path) -> std::process::Output {
    yibao_as(db, "C001")
        .args([
            "checkout",
            "--center",
            &s.url,
            "--qr",
            "44030519850312001X",
            "--pay",
            "cash",
        ])
        .arg("--bill")
        .arg(bill)
        .args(CLINIC)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

#[test]
fn a_sync_takes_version_n_then_nothing_then_only_the_change_and_the_estimate_follows() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    // Version N: everything.
    let first = sync(&s, &db);
    assert_eq!(first["ver"], "20261101001", "{first}");
    let n = first["downloaded"].as_u64().unwrap();
    assert!(n >= 28, "{first}");
    assert_eq!(first["changed"], first["downloaded"]);
    // Nothing new: nothing downloaded.
    let again = sync(&s, &db);
    assert_eq!(again["downloaded"], 0, "{again}");
    assert_eq!(again["changed"], 0);

    // The center publishes N+1: 阿莫西林胶囊 becomes 乙类 with a 限价. The counter,
    // still on N, finds the center's 2206 differs from its own catalogue.
    let st = std::process::Command::new("curl")
        .args([
            "-sf",
            "-X",
            "POST",
            &format!("{}/sim/catalog/publish", s.url),
        ])
        .status()
        .unwrap();
    assert!(st.success());
    let b = bill(dir.path(), amoxicillin());
    let out = checkout(&s, &db, &b);
    let v = json_of(&out);
    assert_eq!(out.status.code(), Some(6), "held: {v}");
    assert!(!v["discrepancies"].as_array().unwrap().is_empty(), "{v}");

    // The sync takes only the change (the item, its 限价, its 先自付 ratio).
    let third = sync(&s, &db);
    assert_eq!(third["ver"], "20261101002", "{third}");
    assert_eq!(third["downloaded"], 3, "{third}");
    assert!(third["changed"].as_u64().unwrap() >= 1, "{third}");
    let out = yibao_as(&db, "C001")
        .args(["catalog", "find", "--db"])
        .arg(&db)
        .arg("amxl")
        .output()
        .unwrap();
    let hit: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(hit["med_list_codg"], "XJ01CAA040A001010100001");
    assert_eq!(hit["chrgitm_lv"], "02");
    assert_eq!(
        money::Price::parse(hit["lmt_pric"].as_str().unwrap()).unwrap(),
        money::Price::parse("20").unwrap()
    );
    assert!(hit["selfpay_prop"].is_string(), "{hit}");

    // The next estimate uses the new class and 限价: no discrepancy, settled and paid.
    let out = checkout(&s, &db, &b);
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["discrepancies"], json!([]), "{v}");
    assert_eq!(v["stage"], "done");
}

#[test]
fn an_unmapped_hospital_item_is_refused_before_2204_and_a_mapped_one_settles() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    sync(&s, &db);
    let csv = dir.path().join("map.csv");
    std::fs::write(
        &csv,
        "hosp_code,name,pric,unit,med_list_codg,hosp_appr_flag\nHOSP-YP-0001,阿莫西林胶囊,25.00,盒,XJ01CAA040A001010100001,1\n",
    )
    .unwrap();
    let out = yibao_as(&db, "S001")
        .args(["catalog", "map", "import", "--db"])
        .arg(&db)
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 血常规 is not mapped: refused before 2204, naming it.
    let out = checkout(&s, &db, &bill(dir.path(), blood_test()));
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("未对照") && text.contains("血常规"), "{text}");
    assert_eq!(
        sqlite(
            &db,
            "SELECT COUNT(*) FROM center_calls WHERE infno = '2204'"
        ),
        "0"
    );
    // The mapped one settles.
    let out = checkout(&s, &db, &bill(dir.path(), amoxicillin()));
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["stage"], "done");
}

/// 事前事中 (3101) before money moves: a warning is shown; a 明确违规 stops the
/// settlement until a supervisor overrides it with a reason, which the audit log keeps.
#[test]
fn a_blocking_rule_stops_the_settlement_until_a_supervisor_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    let b = bill(
        dir.path(),
        json!([
            {"med_list_codg": "XJ01CAA040A001010100001", "name": "阿莫西林胶囊",
             "med_chrgitm_type": "09", "chrgitm_lv": "01", "cnt": "12", "pric": "25.00"},
            {"med_list_codg": "XR05CBA010A001010100007", "name": "盐酸氨溴索口服溶液",
             "med_chrgitm_type": "09", "chrgitm_lv": "02", "cnt": "1", "pric": "18.00"}
        ]),
    );
    let out = checkout(&s, &db, &b);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("限儿童用药") && err.contains("超量开药"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("明确违规"));
    assert!(s.settlements().is_empty(), "nothing settled");
    // A supervisor lets it go with a reason.
    let mut c = yibao_as(&db, "C001");
    c.args([
        "checkout",
        "--center",
        &s.url,
        "--qr",
        "44030519850312001X",
        "--pay",
        "cash",
    ])
    .arg("--bill")
    .arg(&b)
    .args(CLINIC)
    .args([
        "--override-rules",
        "慢性病长期用药，医生已确认",
        "--supervisor",
        "S001",
        "--db",
    ])
    .arg(&db);
    let out = common::with_stdin(c, "super-pass-1\n");
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["stage"], "done");
    assert_eq!(
        sqlite(
            &db,
            "SELECT COUNT(*) FROM audit_log WHERE action = 'rule.override'"
        ),
        "1"
    );
}
