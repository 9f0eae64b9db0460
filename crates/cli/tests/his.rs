//! The bill as the hospital's HIS gives it (issue "Visits a real center accepts"):
//! the visit's doctor, department and diagnoses go to 2201 and 2203 as they are, and a
//! visit lacking what the interface requires is refused before anything is sent.
use serde_json::{json, Value};

mod common;
use common::{json_of, sqlite, yibao_as, HisSim, Sim};

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

/// 陈秀英 (东城, retired) is registered for 门诊慢特病 高血压 M03900 (5301).
const CHEN: &str = "440303195302140085";

fn chronic_bill() -> Value {
    let mut v = visit();
    v["dise_codg"] = json!("M03900");
    v["dise_name"] = json!("高血压");
    json!({
        "med_type": "14",
        "visit": v,
        "lines": [
            {"medins_list_codg": "HOSP-YP-0005", "med_list_codg": "XC08CAA010A001010100005",
             "name": "苯磺酸氨氯地平片", "med_chrgitm_type": "09", "chrgitm_lv": "02",
             "cnt": "2", "pric": "30.00", "rxno": "RX202612015001",
             "bilg_dept_codg": "A03.01", "bilg_dept_name": "心血管内科门诊",
             "bilg_dr_codg": "D440300000001", "bilg_dr_name": "李明", "hosp_appr_flag": "1"},
            {"medins_list_codg": "HOSP-YP-0004", "med_list_codg": "XC09AAA010A001010100004",
             "name": "卡托普利片", "med_chrgitm_type": "09", "chrgitm_lv": "01",
             "cnt": "1", "pric": "12.00", "rxno": "RX202612015001",
             "bilg_dept_codg": "A03.01", "bilg_dept_name": "心血管内科门诊",
             "bilg_dr_codg": "D440300000001", "bilg_dr_name": "李明", "hosp_appr_flag": "1"}
        ]
    })
}

fn checkout_as(s: &Sim, db: &std::path::Path, qr: &str, bill: &Value) -> std::process::Output {
    let file = db.with_file_name("his-bill.json");
    std::fs::write(&file, bill.to_string()).unwrap();
    yibao_as(db, "C001")
        .args(["checkout", "--center", &s.url, "--qr", qr])
        .args(["--pay", "cash", "--bill"])
        .arg(&file)
        .arg("--db")
        .arg(db)
        .output()
        .unwrap()
}

/// A 门诊慢特病 bill settles under med_type 14 for a person registered for its 病种,
/// with the code on 2203 and on every 2204 line — as the center received them.
#[test]
fn a_chronic_bill_settles_with_its_disease_on_2203_and_every_2204_line() {
    let dir = tempfile::tempdir().unwrap();
    let sim_db = dir.path().join("sim.db");
    let s = Sim::start("127.0.0.1:0", &sim_db, &[]);
    let db = dir.path().join("ledger.db");
    let out = checkout_as(&s, &db, CHEN, &chronic_bill());
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["stage"], "done");
    assert_eq!(
        sqlite(&sim_db, "SELECT med_type || ' ' || dise_codg FROM visits"),
        "14 M03900"
    );
    let lines = sqlite(&sim_db, "SELECT input_json FROM fee_lines");
    let rows: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r["dise_codg"], "M03900", "{r}");
        assert_eq!(r["rxno"], "RX202612015001");
        assert_ne!(r["medins_list_codg"], r["med_list_codg"]);
    }
}

/// The same bill for a person without that registration is refused before 2201.
#[test]
fn a_chronic_bill_for_a_person_not_registered_is_refused_before_2201() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    let out = checkout_as(&s, &db, "44030519850312001X", &chronic_bill());
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("未备案") && text.contains("M03900"), "{text}");
    assert_eq!(
        sqlite(
            &db,
            "SELECT COUNT(*) FROM center_calls WHERE infno = '2201'"
        ),
        "0"
    );
    assert_eq!(
        sqlite(
            &db,
            "SELECT COUNT(*) FROM center_calls WHERE infno = '5301'"
        ),
        "1",
        "the registrations were asked"
    );
}

/// `yibao checkout --his URL`: the patient's pending orders at the HIS are the bill; the
/// HIS then holds them as paid with the setl_id, and a refund tells it.
#[test]
fn the_pending_his_bill_settles_and_the_his_hears_paid_then_refunded() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let h = HisSim::start();
    let db = dir.path().join("ledger.db");
    let out = yibao_as(&db, "C001")
        .args(["checkout", "--center", &s.url, "--qr", "44030519850312001X"])
        .args(["--pay", "cash", "--his", &h.url, "--db"])
        .arg(&db)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let setl = v["setl_id"].as_str().unwrap().to_string();
    let bill = |state: &str| {
        h.bills()
            .into_iter()
            .find(|b| b["bill"]["certno"] == "44030519850312001X" && b["state"] == state)
    };
    let paid = bill("paid").expect("the HIS holds the bill as paid");
    assert_eq!(paid["setl_id"], setl.as_str());
    let mut c = yibao_as(&db, "C001");
    c.args(["refund", "--center", &s.url, "--setl-id", &setl])
        .args(["--supervisor", "S001", "--his", &h.url, "--db"])
        .arg(&db);
    let out = common::with_stdin(c, "super-pass-1\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let refunded = bill("refunded").expect("the HIS heard of the refund");
    assert_eq!(refunded["setl_id"], setl.as_str());
    // The registration went with it (2202 after the full refund).
    assert_eq!(
        sqlite(
            &db,
            "SELECT COUNT(*) FROM center_calls WHERE infno = '2202' AND state = 'ok'"
        ),
        "1"
    );
}

/// A lines-only bill (clinic mode) without a doctor and a diagnosis is refused before
/// anything is sent, saying what to give.
#[test]
fn a_clinic_bill_without_doctor_or_diagnosis_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start("127.0.0.1:0", &dir.path().join("sim.db"), &[]);
    let db = dir.path().join("ledger.db");
    let mut bill = his_bill(visit());
    bill.as_object_mut().unwrap().remove("visit");
    let out = checkout_as(&s, &db, "44030519850312001X", &bill);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("--doctor"), "{text}");
    assert_eq!(sqlite(&db, "SELECT COUNT(*) FROM center_calls"), "0");
}

/// A region with a gateway in front of its center (x-tif headers): the counter signs
/// every request with the configured paasid and passtoken; without them the gateway
/// refuses before the center sees anything.
#[test]
fn the_regional_gateway_takes_only_signed_requests() {
    let dir = tempfile::tempdir().unwrap();
    let s = Sim::start(
        "127.0.0.1:0",
        &dir.path().join("sim.db"),
        &["--paasid", "P440300", "--passtoken", "gw-secret"],
    );
    let db = dir.path().join("ledger.db");
    let bill = his_bill(visit());
    let out = checkout(&s, &db, &bill);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("网关鉴权失败"));
    let file = db.with_file_name("his-bill.json");
    let out = yibao_as(&db, "C001")
        .env("YIBAO_PASSTOKEN", "gw-secret")
        .args(["checkout", "--center", &s.url, "--qr", "44030519850312001X"])
        .args(["--paasid", "P440300", "--pay", "cash", "--bill"])
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let v = json_of(&out);
    assert!(
        out.status.success(),
        "{v} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["stage"], "done");
}
