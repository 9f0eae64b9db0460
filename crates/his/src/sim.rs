//! A simulated HIS serving the API v1 ([`crate::api`]) over real HTTP under
//! `http://ADDR/his`, as strict as a real integration: it refuses notices for unknown
//! bills (404), a paid notice with another `setl_id` (409), a refund of a bill not
//! paid (409), a malformed body (400), a request without `X-Yibao-His-Api: 1` (400)
//! and, when it has a token, a request without the right bearer (401). Repeated
//! identical notices are accepted (and counted).
//!
//! Extra routes for tests and the demo (no API header or token needed):
//! `GET /his/_sim/bills` lists every bill with its state, `POST /his/_sim/bills` adds
//! a [`PendingBill`].
//!
//! The seeded bills ([`seed_bills`]) use the demo institution's dictionaries
//! (`assets/dict/departments.csv`, `assets/dict/doctors.csv`).
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::api::{self, code, is_amount, is_time, API_HEADER, API_VERSION};
use crate::{same_certno, PaidNotice, PendingBill, RefundNotice};

const DEPARTMENTS: &str = include_str!("../../../assets/dict/departments.csv");
const DOCTORS: &str = include_str!("../../../assets/dict/doctors.csv");

/// When every seeded bill was created (and its visit began).
pub const DEMO_TIME: &str = "2026-12-01 08:30:00";
/// When the seeded visits' diagnoses were made.
pub const DEMO_DIAG_TIME: &str = "2026-12-01 08:40:00";
/// The doctor of the seeded visits (in `assets/dict/doctors.csv`).
pub const DEMO_DOCTOR: &str = "D440300000001";

/// How the simulated HIS is set up.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOpts {
    /// Address to bind ("127.0.0.1:0": any free port).
    pub listen: String,
    /// If set, every API request must carry `Authorization: Bearer <token>` (else 401).
    pub token: Option<String>,
    /// The patients with a seeded pending bill each (see [`seed_bills`]).
    pub patients: Vec<SimPatient>,
}

impl Default for SimOpts {
    fn default() -> Self {
        SimOpts {
            listen: "127.0.0.1:0".into(),
            token: None,
            patients: Vec::new(),
        }
    }
}

/// A patient of the simulated HIS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimPatient {
    pub certno: String,
    pub psn_name: String,
    /// The 门诊慢特病 (病种 code, name) the patient is registered for, e.g.
    /// ("M03900", "高血压"): gives a second, 门诊慢特病 bill.
    pub chronic: Option<(String, String)>,
}

/// A bill as the simulator holds it (`GET /his/_sim/bills`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimBill {
    /// "pending", "paid" or "refunded".
    pub state: String,
    /// The settlement id of the paid notice.
    pub setl_id: Option<String>,
    /// The 医保人员编号 learnt from the paid notice.
    pub psn_no: Option<String>,
    /// Notices accepted for this bill, repetitions included.
    pub notices: u32,
    pub bill: PendingBill,
}

/// The answer of `GET /his/_sim/bills`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimBills {
    pub bills: Vec<SimBill>,
}

/// A running simulated HIS. Dropping it stops the server (gracefully, in the
/// background); [`SimHis::stop`] waits for that.
#[derive(Debug)]
pub struct SimHis {
    /// The API base URL, "http://ADDR/his".
    pub url: String,
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SimHis {
    /// Stop serving and wait (at most 5 s) for requests in flight to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for SimHis {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Bind `opts.listen` and serve on the current runtime.
pub async fn spawn(opts: SimOpts) -> std::io::Result<SimHis> {
    let listen = if opts.listen.trim().is_empty() {
        "127.0.0.1:0"
    } else {
        opts.listen.trim()
    };
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(&opts);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "simulated HIS stopped");
        }
    });
    Ok(SimHis {
        url: format!("http://{addr}/his"),
        addr,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// The simulator's routes (under `/his`), seeded from `opts.patients`, for serving
/// inside another server.
pub fn router(opts: &SimOpts) -> Router {
    let bills = seed_bills(&opts.patients)
        .into_iter()
        .map(Entry::new)
        .collect();
    let sim = Arc::new(Sim {
        token: opts.token.clone().filter(|t| !t.is_empty()),
        state: Mutex::new(Book {
            bills,
            notices: HashMap::new(),
        }),
    });
    let his = Router::new()
        .route(api::PATH_PENDING, get(pending))
        .route(api::PATH_PAID, axum::routing::post(paid))
        .route(api::PATH_REFUNDED, axum::routing::post(refunded))
        .route("/_sim/bills", get(list_bills).post(add_bill));
    Router::new()
        .nest("/his", his)
        .fallback(not_found)
        .with_state(sim)
}

struct Sim {
    token: Option<String>,
    state: Mutex<Book>,
}

struct Book {
    bills: Vec<Entry>,
    /// Every accepted notice by its id: ("paid" | "refunded", the notice as sent).
    notices: HashMap<String, (&'static str, Value)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BillState {
    Pending,
    Paid,
    Refunded,
}

struct Entry {
    bill: PendingBill,
    state: BillState,
    setl_id: Option<String>,
    psn_no: Option<String>,
    notices: u32,
}

impl Entry {
    fn new(bill: PendingBill) -> Entry {
        Entry {
            bill,
            state: BillState::Pending,
            setl_id: None,
            psn_no: None,
            notices: 0,
        }
    }

    fn view(&self) -> SimBill {
        SimBill {
            state: match self.state {
                BillState::Pending => "pending",
                BillState::Paid => "paid",
                BillState::Refunded => "refunded",
            }
            .into(),
            setl_id: self.setl_id.clone(),
            psn_no: self.psn_no.clone(),
            notices: self.notices,
            bill: self.bill.clone(),
        }
    }
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = api::ErrorBody {
        error: code.into(),
        message: message.into(),
    };
    (status, Json(body)).into_response()
}

fn ok() -> Response {
    Json(api::OkAnswer { ok: true }).into_response()
}

impl Sim {
    /// The checks every API request passes first, the token then the version header:
    /// the refusal, if any.
    fn gate(&self, headers: &HeaderMap) -> Option<Response> {
        if let Some(token) = &self.token {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if given != Some(token.as_str()) {
                let mut r = error(
                    StatusCode::UNAUTHORIZED,
                    code::UNAUTHORIZED,
                    "HIS 接口令牌缺失或不正确，请在柜台设置中填写信息科提供的令牌",
                );
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                return Some(r);
            }
        }
        let version = headers.get(API_HEADER).and_then(|v| v.to_str().ok());
        if version.map(str::trim) != Some("1") {
            return Some(error(
                StatusCode::BAD_REQUEST,
                code::API_VERSION,
                format!(
                    "请求缺少 {API_HEADER}: {API_VERSION} 请求头（或版本不是 {API_VERSION}），请升级柜台软件或检查接口配置"
                ),
            ));
        }
        None
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    error(StatusCode::BAD_REQUEST, code::BAD_REQUEST, message)
}

fn conflict(code: &str, message: impl Into<String>) -> Response {
    error(StatusCode::CONFLICT, code, message)
}

fn unknown_bill(bill_id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        code::UNKNOWN_BILL,
        format!("HIS 中没有账单 {bill_id}，请核对账单号"),
    )
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        code::NOT_FOUND,
        "HIS 接口没有这个地址，请检查 HIS 地址配置",
    )
}

async fn pending(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    if let Some(r) = sim.gate(&headers) {
        return r;
    }
    let Ok(Query(q)) = query else {
        return bad_request("查询参数格式不对");
    };
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let book = sim.state.lock().await;
    let bills: Vec<PendingBill> = match (get("certno"), get("psn_no")) {
        (Some(certno), None) => book
            .bills
            .iter()
            .filter(|e| e.state == BillState::Pending && same_certno(&e.bill.certno, certno))
            .map(|e| e.bill.clone())
            .collect(),
        (None, Some(psn_no)) => {
            // The HIS learns a patient's 医保人员编号 from the paid notices.
            let certnos: Vec<&str> = book
                .bills
                .iter()
                .filter(|e| e.psn_no.as_deref() == Some(psn_no))
                .map(|e| e.bill.certno.as_str())
                .collect();
            book.bills
                .iter()
                .filter(|e| {
                    e.state == BillState::Pending
                        && certnos.iter().any(|c| same_certno(c, &e.bill.certno))
                })
                .map(|e| e.bill.clone())
                .collect()
        }
        _ => return bad_request("请按身份证号（certno）或医保人员编号（psn_no）之一查询"),
    };
    Json(api::PendingAnswer {
        api: API_VERSION,
        bills,
    })
    .into_response()
}

/// The fields that must not be empty, by name.
fn require(fields: &[(&str, &str)]) -> Result<(), String> {
    let empty: Vec<&str> = fields
        .iter()
        .filter(|(_, v)| v.trim().is_empty())
        .map(|(k, _)| *k)
        .collect();
    if empty.is_empty() {
        Ok(())
    } else {
        Err(format!("通知缺少 {}", empty.join("、")))
    }
}

fn check_paid(n: &PaidNotice) -> Result<(), String> {
    require(&[
        ("notice_id", &n.notice_id),
        ("bill_id", &n.bill_id),
        ("setl_id", &n.setl_id),
        ("mdtrt_id", &n.mdtrt_id),
        ("psn_no", &n.psn_no),
    ])?;
    for (k, v) in [
        ("medfee_sumamt", &n.medfee_sumamt),
        ("fund_pay_sumamt", &n.fund_pay_sumamt),
        ("psn_cash_pay", &n.psn_cash_pay),
    ] {
        if !is_amount(v) {
            return Err(format!("{k}“{v}”不是两位小数的金额（如 12.34）"));
        }
    }
    if !is_time(&n.paid_at) {
        return Err(format!(
            "paid_at“{}”不是 YYYY-MM-DD HH:MM:SS 格式的时间",
            n.paid_at
        ));
    }
    Ok(())
}

fn check_refund(n: &RefundNotice) -> Result<(), String> {
    require(&[
        ("notice_id", &n.notice_id),
        ("bill_id", &n.bill_id),
        ("setl_id", &n.setl_id),
    ])?;
    if !is_time(&n.refunded_at) {
        return Err(format!(
            "refunded_at“{}”不是 YYYY-MM-DD HH:MM:SS 格式的时间",
            n.refunded_at
        ));
    }
    Ok(())
}

/// A notice id already used for something else than this notice.
fn reused(book: &Book, kind: &'static str, id: &str, body: &Value) -> Option<Response> {
    match book.notices.get(id) {
        Some((k, b)) if *k != kind || b != body => Some(conflict(
            code::NOTICE_ID_REUSED,
            format!("通知号 {id} 已用于另一条内容不同的通知，请勿重复使用通知号"),
        )),
        _ => None,
    }
}

async fn paid(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = sim.gate(&headers) {
        return r;
    }
    let n: PaidNotice = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return bad_request(format!("缴费通知格式不对：{e}")),
    };
    if let Err(m) = check_paid(&n) {
        return bad_request(m);
    }
    let value = serde_json::to_value(&n).unwrap_or(Value::Null);
    let mut guard = sim.state.lock().await;
    let book = &mut *guard;
    if let Some(r) = reused(book, "paid", &n.notice_id, &value) {
        return r;
    }
    let Some(e) = book.bills.iter_mut().find(|e| e.bill.bill_id == n.bill_id) else {
        return unknown_bill(&n.bill_id);
    };
    match (e.state, e.setl_id.as_deref()) {
        (BillState::Pending, _) => {
            e.state = BillState::Paid;
            e.setl_id = Some(n.setl_id.clone());
            e.psn_no = Some(n.psn_no.clone());
        }
        (_, Some(s)) if s == n.setl_id => {}
        (_, s) => {
            return conflict(
                code::SETL_ID_MISMATCH,
                format!(
                    "账单 {} 已按结算号 {} 缴费，不能再按结算号 {} 缴费",
                    n.bill_id,
                    s.unwrap_or(""),
                    n.setl_id
                ),
            )
        }
    }
    e.notices += 1;
    book.notices.insert(n.notice_id.clone(), ("paid", value));
    ok()
}

async fn refunded(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = sim.gate(&headers) {
        return r;
    }
    let n: RefundNotice = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => return bad_request(format!("退费通知格式不对：{e}")),
    };
    if let Err(m) = check_refund(&n) {
        return bad_request(m);
    }
    let value = serde_json::to_value(&n).unwrap_or(Value::Null);
    let mut guard = sim.state.lock().await;
    let book = &mut *guard;
    if let Some(r) = reused(book, "refunded", &n.notice_id, &value) {
        return r;
    }
    let Some(e) = book.bills.iter_mut().find(|e| e.bill.bill_id == n.bill_id) else {
        return unknown_bill(&n.bill_id);
    };
    if e.state == BillState::Pending {
        return conflict(
            code::NOT_PAID,
            format!("账单 {} 尚未缴费，不能退费", n.bill_id),
        );
    }
    if e.setl_id.as_deref() != Some(n.setl_id.as_str()) {
        return conflict(
            code::SETL_ID_MISMATCH,
            format!(
                "账单 {} 的缴费结算号是 {}，与退费的结算号 {} 不符",
                n.bill_id,
                e.setl_id.as_deref().unwrap_or(""),
                n.setl_id
            ),
        );
    }
    e.state = BillState::Refunded;
    e.notices += 1;
    book.notices
        .insert(n.notice_id.clone(), ("refunded", value));
    ok()
}

async fn list_bills(State(sim): State<Arc<Sim>>) -> Response {
    let book = sim.state.lock().await;
    Json(SimBills {
        bills: book.bills.iter().map(Entry::view).collect(),
    })
    .into_response()
}

async fn add_bill(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let bill: PendingBill = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(format!("账单格式不对：{e}")),
    };
    if let Err(m) = require(&[("bill_id", &bill.bill_id), ("certno", &bill.certno)]) {
        return bad_request(m.replace("通知", "账单"));
    }
    let mut book = sim.state.lock().await;
    if book.bills.iter().any(|e| e.bill.bill_id == bill.bill_id) {
        return conflict("duplicate_bill", format!("账单号 {} 已存在", bill.bill_id));
    }
    book.bills.push(Entry::new(bill));
    ok()
}

// ---- The seeded demo bills ----

struct Dept {
    code: String,
    name: String,
    caty: String,
}

struct Doctor {
    code: String,
    name: String,
    dept: Dept,
}

/// The rows of an embedded CSV file, without its header.
fn rows(text: &str) -> impl Iterator<Item = Vec<&str>> {
    text.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::trim).collect())
}

/// A doctor of `assets/dict/doctors.csv` with the department of
/// `assets/dict/departments.csv` they work in.
fn doctor(code: &str) -> Doctor {
    let row = rows(DOCTORS)
        .find(|r| r.first() == Some(&code))
        .expect("the demo doctor is in assets/dict/doctors.csv");
    let dept = rows(DEPARTMENTS)
        .find(|r| r.first() == row.get(2))
        .expect("the demo doctor's department is in assets/dict/departments.csv");
    Doctor {
        code: row[0].into(),
        name: row[1].into(),
        dept: Dept {
            code: dept[0].into(),
            name: dept[1].into(),
            caty: dept[2].into(),
        },
    }
}

fn visit(
    ipt_otp_no: String,
    dr: &Doctor,
    dise: Option<&(String, String)>,
    diag: (&str, &str),
) -> nhsa::visit::Visit {
    nhsa::visit::Visit {
        ipt_otp_no,
        begntime: DEMO_TIME.into(),
        dept_code: dr.dept.code.clone(),
        dept_name: dr.dept.name.clone(),
        caty: dr.dept.caty.clone(),
        atddr_no: dr.code.clone(),
        dr_name: dr.name.clone(),
        dise_codg: dise.map(|d| d.0.clone()).unwrap_or_default(),
        dise_name: dise.map(|d| d.1.clone()).unwrap_or_default(),
        diseinfo: vec![nhsa::visit::Diagnosis {
            diag_type: "1".into(),
            diag_srt_no: 1,
            diag_code: diag.0.into(),
            diag_name: diag.1.into(),
            diag_dept: dr.dept.name.clone(),
            dise_dor_no: dr.code.clone(),
            dise_dor_name: dr.name.clone(),
            diag_time: DEMO_DIAG_TIME.into(),
            vali_flag: "1".into(),
        }],
    }
}

/// One bill line: (name, medins_list_codg, med_list_codg, med_chrgitm_type,
/// chrgitm_lv, cnt, pric), ordered by `dr` under prescription `rxno`.
fn line(item: [&str; 7], rxno: &str, dr: &Doctor) -> Value {
    let [name, medins, med_list, chrgitm_type, lv, cnt, pric] = item;
    json!({
        "name": name,
        "medins_list_codg": medins,
        "med_list_codg": med_list,
        "med_chrgitm_type": chrgitm_type,
        "chrgitm_lv": lv,
        "cnt": cnt,
        "pric": pric,
        "rxno": rxno,
        "bilg_dept_codg": dr.dept.code,
        "bilg_dept_name": dr.dept.name,
        "bilg_dr_codg": dr.code,
        "bilg_dr_name": dr.name,
        "hosp_appr_flag": "1",
    })
}

/// The pending bills the simulator starts with: for patient n (from 1), `HIS-<n>`, a
/// 普通门诊 visit (急性上呼吸道感染) with 阿莫西林胶囊 ×2 and 血常规 ×1 (70.00 元);
/// and for a patient with a 门诊慢特病, also `HIS-<n>-MT`, a 门诊慢特病 visit
/// (原发性高血压) with 苯磺酸氨氯地平片 ×2 (60.00 元). All by doctor
/// [`DEMO_DOCTOR`], created at [`DEMO_TIME`].
pub fn seed_bills(patients: &[SimPatient]) -> Vec<PendingBill> {
    let dr = doctor(DEMO_DOCTOR);
    let mut out = Vec::new();
    for (i, p) in patients.iter().enumerate() {
        let n = i + 1;
        let rxno = format!("RX20261201{n:04}");
        out.push(PendingBill {
            bill_id: format!("HIS-{n}"),
            certno: p.certno.clone(),
            psn_name: p.psn_name.clone(),
            med_type: "11".into(),
            visit: visit(
                format!("MZ20261201{n:04}"),
                &dr,
                None,
                ("J06.900", "急性上呼吸道感染"),
            ),
            lines: vec![
                line(
                    [
                        "阿莫西林胶囊",
                        "HOSP-YP-0001",
                        "XJ01CAA040A001010100001",
                        "09",
                        "01",
                        "2",
                        "25.00",
                    ],
                    &rxno,
                    &dr,
                ),
                line(
                    [
                        "血常规",
                        "HOSP-JC-0001",
                        "002501000010000",
                        "04",
                        "01",
                        "1",
                        "20.00",
                    ],
                    &rxno,
                    &dr,
                ),
            ],
            created_at: DEMO_TIME.into(),
        });
        if let Some(chronic) = &p.chronic {
            // A visit of its own: 门诊号 and 处方号 in the 5000 range.
            let rxno = format!("RX20261201{:04}", 5000 + n);
            out.push(PendingBill {
                bill_id: format!("HIS-{n}-MT"),
                certno: p.certno.clone(),
                psn_name: p.psn_name.clone(),
                med_type: "14".into(),
                visit: visit(
                    format!("MZ20261201{:04}", 5000 + n),
                    &dr,
                    Some(chronic),
                    ("I10.x00", "原发性高血压"),
                ),
                lines: vec![line(
                    [
                        "苯磺酸氨氯地平片",
                        "HOSP-YP-0005",
                        "XC08CAA010A001010100005",
                        "09",
                        "02",
                        "2",
                        "30.00",
                    ],
                    &rxno,
                    &dr,
                )],
                created_at: DEMO_TIME.into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_complete_visits_from_the_dictionaries() {
        let bills = seed_bills(&[
            SimPatient {
                certno: "44030519850312001X".into(),
                psn_name: "张三".into(),
                chronic: Some(("M03900".into(), "高血压".into())),
            },
            SimPatient {
                certno: "440305199001010011".into(),
                psn_name: "李四".into(),
                chronic: None,
            },
        ]);
        let ids: Vec<&str> = bills.iter().map(|b| b.bill_id.as_str()).collect();
        assert_eq!(ids, ["HIS-1", "HIS-1-MT", "HIS-2"]);
        for b in &bills {
            assert!(
                b.visit.missing().is_empty(),
                "{}: {:?}",
                b.bill_id,
                b.visit.missing()
            );
            assert_eq!(b.visit.dept_name, "心血管内科门诊");
            assert_eq!(b.visit.caty, "A03");
            assert_eq!(b.visit.dr_name, "李明");
        }
        assert_eq!(bills[0].visit.ipt_otp_no, "MZ202612010001");
        assert_eq!(bills[0].lines[0]["rxno"], "RX202612010001");
        assert_eq!(bills[1].visit.dise_codg, "M03900");
        assert_eq!(bills[1].lines[0]["chrgitm_lv"], "02");
        assert_eq!(bills[2].visit.ipt_otp_no, "MZ202612010002");
    }
}
