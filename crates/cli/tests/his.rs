//! The bill as the hospital's HIS gives it (issue "Visits a real center accepts"):
//! the visit's doctor, department and diagnoses go to 2201 and 2203 as they are, and a
//! visit lacking what the interface requires is refused before anything is sent.
use serde_json::{json, Value};

mod common;
use common::{json_of, yibao_as, Sim};

fn his_bill(visit: Value) -> Value {
    json!({
        "med_type": "11",
        "visit": visit,
        "lines": [{
            "medins_list_codg": "HOSP-YP-0001", "med_list_codg": "XJ01CAA040A001010100001",
            "name": "阿莫西林胶囊", "med_chrgitm_type": "09", "chrgitm_lv": "01",
            "cnt": "2", "pric": "25.00", "rxno": "RX202612010001",
            "bilg_dept_codg": "A03.01", "bilg_dept_name": "心血管内科门诊",
            "bilg_dr_codg": "D440300000001", "bilg_dr_name": "李明", "hosp_appr_flag": "1"
        }]
    })
}

fn visit() -> Value {
    json!({
        "ipt_otp_no": "MZ202612010001", "begntime": "2026-12-01 08:30:00",
        "dept_code": "A03.01", "dept_name": "心血管内科门诊", "caty": "A03",
        "atddr_no": "D440300000001", "dr_name": "李明", "dise_codg": "", "dise_name": "",
        "diseinfo": [{"diag_type": "1", "diag_srt_no": 1, "diag_code": "I10.x00",
            "diag_name": "原发性高血压", "diag_dept": "心血管内科门诊",
            "dise_dor_no": "D440300000001", "dise_dor_name": "李明",
            "diag_time": "2026-12-01 08:40:00", "vali_flag": "1"}]
    })
}

fn sqlite(db: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn checkout(s: &Sim, db: &std::path::Path, bill: &Value) -> std::process::Output {
    let file = db.with_file_name("his-bill.json");
    std::fs::write(&file, bill.to_string()).unwrap();
    yibao_as(db, "C001")
        .args(["checkout", "--center", &s.url, "--qr", "44030519850312001X"])
        .args(["--pay", "cash", "--bill"])
        .arg(&file)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

#[test]
fn a_his_bill_settles_with_its_visit() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    let out = checkout(&s, &db, &his_bill(visit()));
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
            "SELECT COUNT(*) FROM center_calls WHERE infno = '2201'"
        ),
        "1"
    );
}

/// Without the doctor's 医保医师编码 (or without a main diagnosis) nothing is sent: the
/// cashier is told what the HIS must fill in.
#[test]
fn a_visit_without_the_doctors_code_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    for broken in [
        {
            let mut v = visit();
            v["atddr_no"] = json!("");
            (v, "医保医师编码")
        },
        {
            let mut v = visit();
            v["diseinfo"] = json!([]);
            (v, "主诊断")
        },
    ] {
        let out = checkout(&s, &db, &his_bill(broken.0));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(broken.1), "{text}");
    }
    assert_eq!(
        sqlite(&db, "SELECT COUNT(*) FROM center_calls"),
        "0",
        "something was sent"
    );
    assert!(s.settlements().is_empty());
}
