//! A simulated national medical insurance platform (国家医疗保障信息平台) that
//! speaks the published interface over real HTTP: the transactions of
//! docs/domain.md §1.5 on the service paths of §1.1, answering with the billing
//! engine's figures and keeping persons, accounts, annual deductible and cap
//! usage, visits, fee lines, settlements, reversals and reconciliation in its
//! own SQLite file.
//!
//! Extra endpoints for demos and tests (not part of the national interface):
//! `GET /sim/persons`, `GET /sim/persons/{psn_no}/qr[?format=png]`,
//! `POST /sim/fault` (inject a fault into the next calls of one transaction),
//! `POST /sim/settlements/{setl_id}/reverse` (the center's staff reverse a settlement on
//! the center's side only: an injected difference for the end of day).

pub mod catalog;
mod db;
pub mod load;
pub mod persons;
pub mod qr;
pub mod registry;
mod tx;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use billing::{Catalog, PolicyBook};
use money::Fen;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::{Row, SqlitePool};
use tokio::net::TcpListener;
use tokio::sync::Mutex;

/// What the simulated center is like.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// 就医地医保区划 of the hospitals it serves (and its clearing agency).
    pub hospital_admdvs: String,
    /// Hospital level for the ratio (1, 2, 3).
    pub hosp_lv: u8,
    /// How often a 医保码 changes.
    pub qr_period_secs: i64,
    /// How long a code stays valid after its period ends.
    pub qr_grace_secs: i64,
    pub policy: PolicyBook,
    pub catalog: Catalog,
    /// Refuse an outpatient settlement above this total (支付限额).
    pub max_outpatient_fee: Fen,
    /// Serve the test controls (`POST /sim/fault`, `GET /sim/settlements`,
    /// `POST /sim/settlements/{setl_id}/reverse`). Off by
    /// default and in the app's built-in demo center: only tests start a simulator with them.
    pub control: bool,
    /// Accept visits a real center refuses (the cashier as the doctor, no diagnosis,
    /// the national code as the hospital's): for training on old data only — never
    /// for the tests that prove fidelity. Off by default.
    pub lenient: bool,
    /// The institutions' registered doctors and departments.
    pub registry: registry::Registry,
    /// A regional gateway in front of the center: (paasid, passtoken). Requests without
    /// valid `x-tif-*` headers are refused.
    pub gateway: Option<(String, String)>,
    /// Synthetic rows added to the first catalogue version (benchmarks of the sync).
    pub synthetic_catalog_rows: usize,
}

impl Default for SimOptions {
    fn default() -> SimOptions {
        SimOptions {
            hospital_admdvs: "440300".into(),
            hosp_lv: 2,
            qr_period_secs: 60,
            qr_grace_secs: 30,
            policy: PolicyBook::demo(),
            catalog: Catalog::demo(),
            max_outpatient_fee: Fen::yuan(20_000),
            control: false,
            lenient: false,
            registry: registry::Registry::demo(),
            gateway: None,
            synthetic_catalog_rows: 0,
        }
    }
}

/// A fault to inject (for tests of the counter's failure handling).
#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    pub infno: String,
    /// `error` (infcode −1 with `message`), `http500`, `hang_before` (never
    /// processed, no answer for `delay_ms`), `hang_after` (processed and
    /// committed, then no answer for `delay_ms`), `tamper_cash` / `tamper_class`
    /// (processed and committed, the answer's figures altered: see `tx::tamper`),
    /// `malformed_ok` (processed and committed, infcode 0 with an unreadable `setlinfo`).
    pub mode: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default = "default_delay")]
    pub delay_ms: u64,
    /// How many calls it affects.
    #[serde(default = "one")]
    pub count: u32,
}
fn default_delay() -> u64 {
    30_000
}
fn one() -> u32 {
    1
}

pub(crate) struct Sim {
    pub pool: SqlitePool,
    pub opts: SimOptions,
    /// One transaction at a time: the center's books stay consistent.
    pub lock: Mutex<()>,
    pub faults: std::sync::Mutex<Vec<Fault>>,
    /// The published catalogue versions (and the newest state, which 2204 splits with).
    pub catalog: std::sync::Mutex<catalog::Published>,
}

/// Serve on `listener` until the process ends.
pub async fn serve(listener: TcpListener, db: &Path, opts: SimOptions) -> anyhow::Result<()> {
    let app = router(db, opts).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Serve an already-built router (see [`router`]).
pub async fn serve_router(listener: TcpListener, app: Router) -> anyhow::Result<()> {
    axum::serve(listener, app).await?;
    Ok(())
}

pub use axum::Router;

/// Bind, spawn the server on the current runtime and return its address.
pub async fn spawn(addr: &str, db: &Path, opts: SimOptions) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = router(db, opts).await?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(local)
}

pub async fn router(db: &Path, opts: SimOptions) -> anyhow::Result<Router> {
    let pool = db::open(db).await?;
    let published = catalog::Published::new(
        &opts.catalog,
        opts.synthetic_catalog_rows,
        catalog::files_dir(db),
    );
    let sim = Arc::new(Sim {
        pool,
        opts,
        lock: Mutex::new(()),
        faults: std::sync::Mutex::new(Vec::new()),
        catalog: std::sync::Mutex::new(published),
    });
    let control = sim.opts.control;
    let mut r = Router::new()
        .route("/sim/health", get(|| async { "ok" }))
        .route("/sim/persons", get(persons))
        .route("/sim/persons/{psn_no}/qr", get(person_qr));
    if control {
        r = r
            .route("/sim/settlements", get(settlements))
            .route("/sim/settlements/{setl_id}/reverse", post(staff_reverse))
            .route("/sim/fault", post(add_fault))
            .route("/sim/catalog/publish", post(publish_catalog));
    }
    Ok(r.fallback(envelope).with_state(sim))
}

/// The regional gateway's check: the paasid, a timestamp within five minutes, and
/// `x-tif-signature` = SHA-256(timestamp + passtoken + nonce + timestamp).
fn check_gateway(h: &axum::http::HeaderMap, paasid: &str, token: &str) -> Result<(), String> {
    let get = |k: &str| h.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
    if get("x-tif-paasid") != paasid {
        return Err("网关鉴权失败：x-tif-paasid 不正确或缺失".into());
    }
    let ts = get("x-tif-timestamp");
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() <= 300);
    if !fresh {
        return Err("网关鉴权失败：x-tif-timestamp 缺失或已过期".into());
    }
    if get("x-tif-signature") != nhsa::secure::TifLayer::signature(ts, token, get("x-tif-nonce")) {
        return Err("网关鉴权失败：x-tif-signature 校验不通过".into());
    }
    Ok(())
}

/// A file as a stream of chunks (no copy of it in memory).
fn tokio_util_stream(
    f: tokio::fs::File,
) -> impl futures_core::Stream<Item = Result<Bytes, std::io::Error>> {
    use tokio::io::AsyncReadExt;
    futures_util::stream::unfold(f, |mut f| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}

/// Publish the next catalogue version (test control).
async fn publish_catalog(State(sim): State<Arc<Sim>>) -> Response {
    let ver = match sim.catalog.lock() {
        Ok(mut c) => c.publish_next(),
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "catalog lock").into_response(),
    };
    Json(json!({"ver": ver})).into_response()
}

fn now() -> chrono::NaiveDateTime {
    chrono::Local::now().naive_local()
}

impl Sim {
    pub(crate) fn slot_now(&self) -> i64 {
        qr::slot_of(chrono::Utc::now().timestamp(), self.opts.qr_period_secs)
    }
}

/// The center's settlement book (for tests and the demo): every settlement and
/// cancellation with its state (`valid`, `cancelled`, `reversed`).
async fn settlements(State(sim): State<Arc<Sim>>) -> Response {
    let rows = match sqlx::query(
        "SELECT setl_id, kind, orig_setl_id, psn_no, msgid, medfee, fund, acct, cash, state FROM settlements ORDER BY setl_time, setl_id",
    )
    .fetch_all(&sim.pool)
    .await
    {
        Ok(r) => r,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let fen = |r: &sqlx::sqlite::SqliteRow, k: &str| Fen(r.get::<i64, _>(k)).to_string();
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "setl_id": r.get::<String, _>("setl_id"),
                "kind": r.get::<String, _>("kind"),
                "orig_setl_id": r.get::<Option<String>, _>("orig_setl_id"),
                "psn_no": r.get::<String, _>("psn_no"),
                "msgid": r.get::<String, _>("msgid"),
                "medfee_sumamt": fen(r, "medfee"),
                "fund_pay_sumamt": fen(r, "fund"),
                "acct_pay": fen(r, "acct"),
                "psn_cash_pay": fen(r, "cash"),
                "state": r.get::<String, _>("state"),
            })
        })
        .collect();
    Json(list).into_response()
}

async fn persons(State(sim): State<Arc<Sim>>) -> Response {
    let rows = match sqlx::query(
        "SELECT psn_no, name, certno, insutype, insu_stas, insuplc_admdvs, balc, activated, acct_owner, scenario, scenario_zh, secret FROM persons ORDER BY seq",
    )
    .fetch_all(&sim.pool)
    .await
    {
        Ok(r) => r,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let slot = sim.slot_now();
    let list: Vec<Value> = rows
        .iter()
        .map(|r| {
            let secret: String = r.get("secret");
            let insuplc: String = r.get("insuplc_admdvs");
            json!({
                "psn_no": r.get::<String, _>("psn_no"),
                "name": r.get::<String, _>("name"),
                "certno": r.get::<String, _>("certno"),
                "insutype": r.get::<String, _>("insutype"),
                "psn_insu_stas": r.get::<String, _>("insu_stas"),
                "insuplc_admdvs": insuplc,
                "balance": Fen(r.get::<i64, _>("balc")).to_string(),
                "activated": r.get::<bool, _>("activated"),
                "acct_owner": r.get::<Option<String>, _>("acct_owner"),
                "scenario": r.get::<String, _>("scenario"),
                "scenario_zh": r.get::<String, _>("scenario_zh"),
                "qr": qr::code_for(&secret, slot, &insuplc),
            })
        })
        .collect();
    Json(list).into_response()
}

#[derive(Deserialize)]
struct QrQuery {
    format: Option<String>,
}

async fn person_qr(
    State(sim): State<Arc<Sim>>,
    UrlPath(psn_no): UrlPath<String>,
    Query(q): Query<QrQuery>,
) -> Response {
    let row = sqlx::query("SELECT secret, insuplc_admdvs FROM persons WHERE psn_no = ?")
        .bind(&psn_no)
        .fetch_optional(&sim.pool)
        .await;
    let Ok(Some(row)) = row else {
        return (StatusCode::NOT_FOUND, format!("no demo person {psn_no}")).into_response();
    };
    let code = qr::code_for(
        &row.get::<String, _>(0),
        sim.slot_now(),
        &row.get::<String, _>(1),
    );
    if q.format.as_deref() == Some("png") {
        ([(header::CONTENT_TYPE, "image/png")], qr::png(&code, 8)).into_response()
    } else {
        code.into_response()
    }
}

/// Reverse a settlement on the center's side only (test control; see `tx::staff_reverse`).
async fn staff_reverse(State(sim): State<Arc<Sim>>, UrlPath(setl_id): UrlPath<String>) -> Response {
    match tx::staff_reverse(&sim, &setl_id).await {
        Ok(()) => Json(json!({"setl_id": setl_id, "state": "reversed"})).into_response(),
        Err(m) => (StatusCode::CONFLICT, Json(json!({"error": m}))).into_response(),
    }
}

async fn add_fault(State(sim): State<Arc<Sim>>, Json(f): Json<Fault>) -> Response {
    sim.faults.lock().unwrap_or_else(|e| e.into_inner()).push(f);
    "ok".into_response()
}

impl Sim {
    fn take_fault(&self, infno: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let i = faults.iter().position(|f| f.infno == infno)?;
        let f = faults[i].clone();
        if faults[i].count <= 1 {
            faults.remove(i);
        } else {
            faults[i].count -= 1;
        }
        Some(f)
    }
}

async fn envelope(
    State(sim): State<Arc<Sim>>,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((paasid, token)) = &sim.opts.gateway {
        if let Err(msg) = check_gateway(&headers, paasid, token) {
            let r = nhsa::ResponseEnvelope::fail(msg, String::new(), now());
            return (
                StatusCode::OK,
                Json(serde_json::to_value(r).unwrap_or(Value::Null)),
            )
                .into_response();
        }
    }
    // 9102 of a catalogue file: the file itself, streamed from disk (as the platform
    // answers a download), not an envelope.
    if uri.path().ends_with(nhsa::Infno::FileDownload.path()) {
        let name = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| {
                v["input"]["fsDownloadIn"]["filename"]
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        if name.starts_with("ML") {
            let path = sim
                .catalog
                .lock()
                .map(|c| c.file_path(&name))
                .unwrap_or(None);
            if let Some(p) = path {
                if let Ok(f) = tokio::fs::File::open(&p).await {
                    let stream = tokio_util_stream(f);
                    return (
                        [(header::CONTENT_TYPE, "application/octet-stream")],
                        axum::body::Body::from_stream(stream),
                    )
                        .into_response();
                }
            }
        }
    }
    let (status, v, delay_after) = tx::handle(&sim, uri.path(), &body).await;
    if let Some(ms) = delay_after {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    (status, Json(v)).into_response()
}
