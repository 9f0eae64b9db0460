//! The transactions. Each runs under the center's lock inside one SQLite
//! transaction: it either happens completely or not at all.
//!
//! This module takes a request apart (envelope, infno against the path, msgid,
//! simulated faults), runs it under the lock, and answers; the transactions
//! themselves live in one file per family:
//!
//! - `identity`: 9001 sign-in, 9002 sign-out, 1162 QR decode, 1101 person info;
//! - `visit`: 2201 register, 2202 its cancellation, 2203 visit upload, 2204 fee
//!   upload, 2205 fee cancellation;
//! - `settle`: 2206 pre-settlement, 2207 settlement;
//! - `cancel`: 2208 cancellation, 2601 reversal;
//! - `query`: 5201, 5203, 5204 (and `identity`: 5301 慢特病 registrations);
//! - `reconcile`: 3201, 3202, 9101 file upload, 9102 file download.

mod cancel;
mod identity;
mod query;
mod reconcile;
mod rules;
mod settle;
mod visit;

use axum::http::StatusCode;
use chrono::NaiveDateTime;
use money::Fen;
use nhsa::{Infno, RequestEnvelope, ResponseEnvelope};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use crate::{db, now, Sim};

/// A refusal the center answers with infcode −1 and this message.
pub(crate) struct Biz(pub String);

impl From<sqlx::Error> for Biz {
    fn from(e: sqlx::Error) -> Biz {
        Biz(format!("系统异常：数据库错误（{e}）"))
    }
}
impl From<anyhow::Error> for Biz {
    fn from(e: anyhow::Error) -> Biz {
        Biz(format!("系统异常：{e}"))
    }
}

fn biz<T>(msg: impl Into<String>) -> Result<T, Biz> {
    Err(Biz(msg.into()))
}

type R<T> = Result<T, Biz>;

pub(crate) async fn handle(sim: &Sim, path: &str, body: &[u8]) -> (StatusCode, Value, Option<u64>) {
    let t = now();
    let refid = |seq: i64| area_serial(&sim.opts.hospital_admdvs, t, seq);
    let fail = |msg: String| {
        let r = ResponseEnvelope::fail(msg, refid(0), t);
        (
            StatusCode::OK,
            serde_json::to_value(r).unwrap_or(Value::Null),
            None,
        )
    };
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return fail(format!("请求报文不是合法的JSON：{e}")),
    };
    let infno_text = v
        .get("infno")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let env: RequestEnvelope = match serde_json::from_value(v) {
        Ok(e) => e,
        Err(e) => return fail(format!("请求报文公共输入不完整或格式错误：{e}")),
    };
    let Some(infno) = Infno::parse(&infno_text) else {
        return fail(format!("不支持的交易编号 {infno_text:?}"));
    };
    match Infno::from_path(path) {
        Some(p) if p == infno => {}
        _ => return fail(format!("交易编号 {infno_text} 与服务路径 {path} 不符")),
    }
    match nhsa::parse_msgid(&env.msgid) {
        Some(p) if p.prefix == env.fixmedins_code => {}
        _ => {
            return fail(format!(
                "发送方报文ID {:?} 格式错误：应为定点机构编号(12)+时间(14)+顺序号(4)",
                env.msgid
            ))
        }
    }
    if let Some(f) = sim.take_fault(infno.code()) {
        match f.mode.as_str() {
            "error" => return fail(f.message.unwrap_or_else(|| "系统异常：模拟故障".into())),
            "http500" => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal"}),
                    None,
                )
            }
            "hang_before" => {
                tokio::time::sleep(std::time::Duration::from_millis(f.delay_ms)).await;
                return fail("系统异常：处理超时".into());
            }
            "hang_after" => {
                let (s, v, _) = run(sim, infno, &env, t).await;
                return (s, v, Some(f.delay_ms));
            }
            "malformed_ok" => {
                // Processed and committed, then a success answer (infcode 0) whose
                // settlement cannot be read.
                let (s, mut v, d) = run(sim, infno, &env, t).await;
                if let Some(o) = v.get_mut("output") {
                    *o = json!({"setlinfo": "（数据异常）"});
                }
                return (s, v, d);
            }
            "tamper_cash" | "tamper_class" => {
                let (s, mut v, d) = run(sim, infno, &env, t).await;
                tamper(&mut v, &f.mode);
                return (s, v, d);
            }
            _ => {}
        }
    }
    run(sim, infno, &env, t).await
}

async fn run(
    sim: &Sim,
    infno: Infno,
    env: &RequestEnvelope,
    t: NaiveDateTime,
) -> (StatusCode, Value, Option<u64>) {
    let _guard = sim.lock.lock().await;
    let result: R<(Value, i64)> = async {
        let mut conn = sim.pool.begin().await?;
        let dup: Option<String> = sqlx::query_scalar("SELECT infno FROM msgs WHERE msgid = ?")
            .bind(&env.msgid)
            .fetch_optional(&mut *conn)
            .await?;
        if dup.is_some() {
            return biz(format!("发送方报文ID {} 重复，交易已受理过", env.msgid));
        }
        if needs_sign_in(infno) {
            let ok: Option<String> = sqlx::query_scalar(
                "SELECT sign_no FROM sign_ins WHERE sign_no = ? AND sign_out_time IS NULL",
            )
            .bind(&env.sign_no)
            .fetch_optional(&mut *conn)
            .await?;
            if ok.is_none() {
                return biz("未签到或签到流水号无效，请先签到（9001）");
            }
        }
        let out = dispatch(sim, infno, env, t, &mut conn).await?;
        let setl = out
            .get("setlinfo")
            .and_then(|s| s.get("setl_id"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        sqlx::query(
            "INSERT INTO msgs (msgid, infno, fixmedins_code, setl_id, time) VALUES (?,?,?,?,?)",
        )
        .bind(&env.msgid)
        .bind(infno.code())
        .bind(&env.fixmedins_code)
        .bind(setl)
        .bind(fmt(t))
        .execute(&mut *conn)
        .await?;
        let seq = db::next(&mut conn, "refmsg").await?;
        conn.commit().await?;
        Ok((out, seq))
    }
    .await;
    let refid = |seq: i64| area_serial(&sim.opts.hospital_admdvs, t, seq);
    let r = match result {
        Ok((out, seq)) => ResponseEnvelope::ok(out, refid(seq), t),
        Err(Biz(msg)) => ResponseEnvelope::fail(msg, refid(0), t),
    };
    (
        StatusCode::OK,
        serde_json::to_value(r).unwrap_or(Value::Null),
        None,
    )
}

/// Test control (`POST /sim/settlements/{setl_id}/reverse`): the center's own staff
/// reverse a valid settlement on the center's side only, as if by hand — the account,
/// the deductible and cap usage are restored and the settlement no longer counts in
/// 3201/3202; the institution is not told. `Err`: why it cannot be reversed.
pub(crate) async fn staff_reverse(sim: &Sim, setl_id: &str) -> Result<(), String> {
    let _guard = sim.lock.lock().await;
    let r: R<()> = async {
        let mut conn = sim.pool.begin().await?;
        cancel::reverse_by_staff(&mut conn, setl_id).await?;
        conn.commit().await?;
        Ok(())
    }
    .await;
    r.map_err(|Biz(m)| m)
}

/// A broken or hostile center: the transaction is processed and committed, and the
/// answer's figures are altered. `tamper_cash` adds 1.00 to `psn_cash_pay` (the
/// identities no longer hold); `tamper_class` moves 1.00 from `inscp_scp_amt` to
/// `fulamt_ownpay_amt` (the identities hold; the split disagrees with the catalogue).
fn tamper(v: &mut Value, mode: &str) {
    let Some(info) = v.get_mut("output").and_then(|o| o.get_mut("setlinfo")) else {
        return;
    };
    let mut add = |k: &str, fen: i64| {
        if let Some(f) = info
            .get(k)
            .and_then(|x| serde_json::from_value::<Fen>(x.clone()).ok())
        {
            info[k] = serde_json::to_value(f + Fen::new(fen)).unwrap_or(Value::Null);
        }
    };
    if mode == "tamper_cash" {
        add("psn_cash_pay", 100);
    } else {
        add("inscp_scp_amt", -100);
        add("fulamt_ownpay_amt", 100);
    }
}

/// Area code + time + 10-digit serial: the shape of the center's own ids
/// (`inf_refmsgid`, `sign_no`).
fn area_serial(admdvs: &str, t: NaiveDateTime, seq: i64) -> String {
    format!("{admdvs}{}{seq:010}", t.format("%Y%m%d%H%M%S"))
}

fn needs_sign_in(i: Infno) -> bool {
    !matches!(
        i,
        Infno::SignIn | Infno::QrDecode | Infno::PersonInfo | Infno::FileDownload
    )
}

fn fmt(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn text(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(x)) => x.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn req(v: &Value, node: &str, k: &str) -> R<String> {
    let t = text(v, k);
    if t.is_empty() {
        return biz(format!("{node}.{k} 不能为空"));
    }
    Ok(t)
}

async fn dispatch(
    sim: &Sim,
    infno: Infno,
    env: &RequestEnvelope,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let input = &env.input;
    let data = input.get("data").cloned().unwrap_or(Value::Null);
    match infno {
        Infno::SignIn => identity::sign_in(sim, env, input, t, c).await,
        Infno::SignOut => identity::sign_out(input, t, c).await,
        Infno::QrDecode => identity::decode_qr(sim, &data, t, c).await,
        Infno::PersonInfo => identity::person_info(sim, &data, c).await,
        Infno::Register => visit::register(sim, env, &data, t, c).await,
        Infno::RegisterCancel => visit::register_cancel(&data, c).await,
        Infno::VisitUpload => visit::visit_upload(sim, input, c).await,
        Infno::FeeUpload => visit::fee_upload(sim, input, c).await,
        Infno::FeeCancel => visit::fee_cancel(&data, c).await,
        Infno::PreSettle => settle::settle(sim, env, &data, t, c, false).await,
        Infno::Settle => settle::settle(sim, env, &data, t, c, true).await,
        Infno::SettleCancel => {
            let setl_id = req(&data, "data", "setl_id")?;
            cancel::cancel(sim, env, &setl_id, t, c).await
        }
        Infno::Reverse => cancel::reverse(sim, env, &data, t, c).await,
        Infno::StmtTotal => reconcile::stmt_total(env, &data, c).await,
        Infno::StmtDetail => reconcile::stmt_detail(env, &data, c).await,
        Infno::VisitQuery => query::visit_query(&data, c).await,
        Infno::SettleQuery => query::settle_query(&data, c).await,
        Infno::FeeQuery => query::fee_query(&data, c).await,
        Infno::ChronicQuery => identity::chronic_query(&data, c).await,
        Infno::CatalogWestern
        | Infno::CatalogHerbal
        | Infno::CatalogService
        | Infno::CatalogMaterial => catalog_download(sim, infno, &data),
        Infno::RuleCheck => rules::check(&data, t, c).await,
        Infno::RuleFeedback => rules::feedback(&data).await,
        Infno::CatalogLimit => catalog_page(sim, false, &data),
        Infno::CatalogSelfpay => catalog_page(sim, true, &data),
        Infno::FileUpload => reconcile::file_upload(input, t, c).await,
        Infno::FileDownload => reconcile::file_download(input, c).await,
    }
}

/// 1301/1302/1305/1306: the rows of that catalogue changed after `ver`, as a file to
/// fetch with 9102.
fn catalog_download(sim: &Sim, infno: Infno, data: &Value) -> R<Value> {
    let ver = text(data, "ver");
    if ver.is_empty() {
        return biz("ver 不能为空（首次下载传 0）");
    }
    let mut c = sim
        .catalog
        .lock()
        .map_err(|_| Biz("系统异常：目录不可用".into()))?;
    let (no, filename, newest, rows) = c
        .changes_file(infno.code(), &ver)
        .map_err(|e| Biz(format!("系统异常：目录文件生成失败（{e}）")))?;
    Ok(
        json!({"file_qury_no": no, "filename": filename, "ver": newest, "rows": rows.to_string(),
        "dld_endtime": "2099-12-31 23:59:59"}),
    )
}

/// 1318 (限价) / 1319 (先自付比例): one page of the rows updated after `updt_time`.
fn catalog_page(sim: &Sim, selfpay: bool, data: &Value) -> R<Value> {
    let page = text(data, "page_num").parse::<usize>().unwrap_or(0);
    let size = text(data, "page_size").parse::<usize>().unwrap_or(0);
    if page == 0 || size == 0 {
        return biz("page_num 和 page_size 必须为正整数");
    }
    let c = sim
        .catalog
        .lock()
        .map_err(|_| Biz("系统异常：目录不可用".into()))?;
    let (rows, total) = c.page(selfpay, &text(data, "updt_time"), page, size);
    Ok(
        json!({"data": rows, "recordCounts": total, "pageNum": page, "pageSize": size,
        "pages": total.div_ceil(size.clamp(1, 1000))}),
    )
}
