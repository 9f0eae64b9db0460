//! The transactions. Each runs under the center's lock inside one SQLite
//! transaction: it either happens completely or not at all.

use axum::http::StatusCode;
use billing::{LineSplit, PersonFunds, RegionKind, Settlement, Situation, YearUsage};
use chrono::NaiveDateTime;
use money::{Fen, Price, Qty};
use nhsa::{Infno, RequestEnvelope, ResponseEnvelope};
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use crate::{db, now, qr, Sim};

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

/// A new settlement id (for a settlement or its cancellation).
async fn new_setl_id(sim: &Sim, c: &mut SqliteConnection) -> R<String> {
    let seq = db::next(c, "setl").await?;
    Ok(format!(
        "{}{:08}",
        &sim.opts.hospital_admdvs[..2],
        40_000_000 + seq
    ))
}

async fn set_setl_state(c: &mut SqliteConnection, setl_id: &str, state: &str) -> R<()> {
    sqlx::query("UPDATE settlements SET state = ? WHERE setl_id = ?")
        .bind(state)
        .bind(setl_id)
        .execute(&mut *c)
        .await?;
    Ok(())
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
        Infno::SignIn => {
            let si = input.get("signIn").cloned().unwrap_or(Value::Null);
            let opter = req(&si, "signIn", "opter_no")?;
            let seq = db::next(c, "sign_no").await?;
            let sign_no = area_serial(&sim.opts.hospital_admdvs, t, seq);
            sqlx::query(
                "INSERT INTO sign_ins (sign_no, opter, fixmedins_code, sign_time) VALUES (?,?,?,?)",
            )
            .bind(&sign_no)
            .bind(&opter)
            .bind(&env.fixmedins_code)
            .bind(fmt(t))
            .execute(&mut *c)
            .await?;
            Ok(json!({"signinoutb": {"sign_no": sign_no, "sign_time": fmt(t)}}))
        }
        Infno::SignOut => {
            let so = input.get("signOut").cloned().unwrap_or(Value::Null);
            let sign_no = req(&so, "signOut", "sign_no")?;
            sqlx::query("UPDATE sign_ins SET sign_out_time = ? WHERE sign_no = ?")
                .bind(fmt(t))
                .bind(&sign_no)
                .execute(&mut *c)
                .await?;
            Ok(json!({"signoutoutb": {"sign_time": fmt(t)}}))
        }
        Infno::QrDecode => decode_qr(sim, &data, t, c).await,
        Infno::PersonInfo => person_info(sim, &data, c).await,
        Infno::Register => register(sim, env, &data, t, c).await,
        Infno::RegisterCancel => {
            let mdtrt_id = req(&data, "data", "mdtrt_id")?;
            let settled: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM fee_lines WHERE mdtrt_id = ? AND setl_id IS NOT NULL",
            )
            .bind(&mdtrt_id)
            .fetch_one(&mut *c)
            .await?;
            if settled > 0 {
                return biz("该就诊已有结算记录，请先撤销结算（2208）");
            }
            let n = sqlx::query("UPDATE visits SET cancelled = 1 WHERE mdtrt_id = ?")
                .bind(&mdtrt_id)
                .execute(&mut *c)
                .await?
                .rows_affected();
            if n == 0 {
                return biz(format!("就诊ID {mdtrt_id} 不存在"));
            }
            Ok(json!({}))
        }
        Infno::VisitUpload => {
            let m = input.get("mdtrtinfo").cloned().unwrap_or(Value::Null);
            let mdtrt_id = req(&m, "mdtrtinfo", "mdtrt_id")?;
            let visit = load_visit(c, &mdtrt_id).await?;
            let med_type = text(&m, "med_type");
            let dise = text(&m, "dise_codg");
            if matches!(med_type.as_str(), "14" | "140104" | "140201") {
                let reg: Option<String> =
                    sqlx::query_scalar("SELECT chronic_code FROM persons WHERE psn_no = ?")
                        .bind(&visit.psn_no)
                        .fetch_one(&mut *c)
                        .await?;
                if reg.as_deref() != Some(dise.as_str()) || dise.is_empty() {
                    return biz("该参保人未备案此门诊慢特病病种，不能按门诊慢特病结算");
                }
            }
            sqlx::query("UPDATE visits SET med_type = COALESCE(NULLIF(?, ''), med_type), dise_codg = ? WHERE mdtrt_id = ?")
                .bind(&med_type)
                .bind(&dise)
                .bind(&mdtrt_id)
                .execute(&mut *c)
                .await?;
            Ok(json!({}))
        }
        Infno::FeeUpload => fee_upload(sim, input, c).await,
        Infno::FeeCancel => {
            let mdtrt_id = req(&data, "data", "mdtrt_id")?;
            let bch = req(&data, "data", "chrg_bchno")?;
            let q = if bch == "0000" {
                sqlx::query("DELETE FROM fee_lines WHERE mdtrt_id = ? AND setl_id IS NULL")
                    .bind(&mdtrt_id)
            } else {
                sqlx::query("DELETE FROM fee_lines WHERE mdtrt_id = ? AND setl_id IS NULL AND chrg_bchno = ?")
                    .bind(&mdtrt_id)
                    .bind(bch)
            };
            q.execute(&mut *c).await?;
            Ok(json!({}))
        }
        Infno::PreSettle => settle(sim, env, &data, t, c, false).await,
        Infno::Settle => settle(sim, env, &data, t, c, true).await,
        Infno::SettleCancel => {
            let setl_id = req(&data, "data", "setl_id")?;
            cancel(sim, env, &setl_id, t, c).await
        }
        Infno::Reverse => reverse(sim, env, &data, t, c).await,
        Infno::StmtTotal => stmt_total(env, &data, c).await,
        Infno::StmtDetail => stmt_detail(env, &data, c).await,
        Infno::VisitQuery => {
            let psn_no = req(&data, "data", "psn_no")?;
            let rows = sqlx::query("SELECT v.mdtrt_id, v.med_type, v.begntime, v.ipt_otp_no, (SELECT GROUP_CONCAT(setl_id) FROM settlements s WHERE s.mdtrt_id = v.mdtrt_id AND s.kind = 'settle' AND s.state = 'valid') AS setl FROM visits v WHERE v.psn_no = ? ORDER BY v.begntime")
                .bind(&psn_no)
                .fetch_all(&mut *c)
                .await?;
            let list: Vec<Value> = rows
                .iter()
                .map(|r| json!({"mdtrt_id": r.get::<String,_>(0), "psn_no": psn_no, "med_type": r.get::<String,_>(1), "begntime": r.get::<Option<String>,_>(2), "ipt_otp_no": r.get::<Option<String>,_>(3), "setl_id": r.get::<Option<String>,_>(4)}))
                .collect();
            Ok(json!({"mdtrtinfo": list}))
        }
        Infno::SettleQuery => {
            let setl_id = req(&data, "data", "setl_id")?;
            let row =
                sqlx::query("SELECT output_json, state, kind FROM settlements WHERE setl_id = ?")
                    .bind(&setl_id)
                    .fetch_optional(&mut *c)
                    .await?;
            let Some(row) = row else {
                return biz(format!("结算ID {setl_id} 不存在"));
            };
            let mut out: Value =
                serde_json::from_str(&row.get::<String, _>(0)).unwrap_or(Value::Null);
            let state: String = row.get(1);
            out["setlinfo"]["refd_setl_flag"] = json!(if row.get::<String, _>(2) == "cancel" {
                "1"
            } else {
                "0"
            });
            out["setlinfo"]["setl_state"] = json!(state);
            Ok(out)
        }
        Infno::FeeQuery => {
            let setl_id = req(&data, "data", "setl_id")?;
            let rows = sqlx::query(
                "SELECT result_json FROM fee_lines WHERE setl_id = ? ORDER BY feedetl_sn",
            )
            .bind(&setl_id)
            .fetch_all(&mut *c)
            .await?;
            let list: Vec<Value> = rows
                .iter()
                .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap_or(Value::Null))
                .collect();
            Ok(json!({"feedetail": list}))
        }
        Infno::FileUpload => {
            let f = input.get("fsUploadIn").cloned().unwrap_or(Value::Null);
            let content =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text(&f, "in"))
                    .map_err(|_| Biz("fsUploadIn.in 不是合法的Base64".into()))?;
            let seq = db::next(c, "file").await?;
            let no = format!("F{}{:08}", t.format("%Y%m%d"), seq);
            sqlx::query("INSERT INTO files VALUES (?,?,?)")
                .bind(&no)
                .bind(text(&f, "filename"))
                .bind(content)
                .execute(&mut *c)
                .await?;
            Ok(json!({"file_qury_no": no, "filename": text(&f, "filename")}))
        }
        Infno::FileDownload => {
            let f = input.get("fsDownloadIn").cloned().unwrap_or(Value::Null);
            let no = req(&f, "fsDownloadIn", "file_qury_no")?;
            let row = sqlx::query("SELECT filename, content FROM files WHERE file_qury_no = ?")
                .bind(&no)
                .fetch_optional(&mut *c)
                .await?;
            let Some(row) = row else {
                return biz(format!("文件 {no} 不存在"));
            };
            Ok(
                json!({"filename": row.get::<String,_>(0), "content": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, row.get::<Vec<u8>,_>(1))}),
            )
        }
    }
}

struct Person {
    psn_no: String,
    name: String,
    certno: String,
    gend: String,
    brdy: String,
    insutype: String,
    psn_type: String,
    insu_stas: String,
    insuplc: String,
    balc: i64,
    retired: bool,
    activated: bool,
    owner: Option<String>,
    emp_name: String,
    secret: String,
    chronic: Option<(String, String)>,
}

async fn load_person(c: &mut SqliteConnection, psn_no: &str) -> R<Person> {
    let r = sqlx::query("SELECT psn_no, name, certno, gend, brdy, insutype, psn_type, insu_stas, insuplc_admdvs, balc, retired, activated, acct_owner, emp_name, secret, chronic_code, chronic_name FROM persons WHERE psn_no = ?")
        .bind(psn_no)
        .fetch_optional(&mut *c)
        .await?;
    let Some(r) = r else {
        return biz(format!("人员编号 {psn_no} 不存在"));
    };
    Ok(Person {
        psn_no: r.get(0),
        name: r.get(1),
        certno: r.get(2),
        gend: r.get(3),
        brdy: r.get(4),
        insutype: r.get(5),
        psn_type: r.get(6),
        insu_stas: r.get(7),
        insuplc: r.get(8),
        balc: r.get(9),
        retired: r.get(10),
        activated: r.get(11),
        owner: r.get(12),
        emp_name: r.get(13),
        secret: r.get(14),
        chronic: r
            .get::<Option<String>, _>(15)
            .map(|code| (code, r.get::<Option<String>, _>(16).unwrap_or_default())),
    })
}

async fn decode_qr(
    sim: &Sim,
    data: &Value,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let code = {
        let a = text(data, "ecQrCode");
        if a.is_empty() {
            text(data, "qrcode")
        } else {
            a
        }
    };
    if code.is_empty() {
        return biz("data.ecQrCode 不能为空");
    }
    if qr::is_payment_code(&code) {
        return biz("请使用医保电子凭证二维码（扫到的是付款码）");
    }
    let now_slot = sim.slot_now();
    let Some(slot) = qr::claimed_slot(&code, now_slot) else {
        return biz("无效的二维码，请使用医保电子凭证二维码");
    };
    let rows = sqlx::query("SELECT psn_no, secret, insuplc_admdvs FROM persons")
        .fetch_all(&mut *c)
        .await?;
    let found = rows
        .iter()
        .find(|r| qr::code_for(&r.get::<String, _>(1), slot, &r.get::<String, _>(2)) == code);
    let Some(row) = found else {
        return biz("无效的二维码，请使用医保电子凭证二维码");
    };
    let p = load_person(c, &row.get::<String, _>(0)).await?;
    if !p.activated {
        return biz("该参保人医保电子凭证未激活，请激活后使用");
    }
    let period = sim.opts.qr_period_secs;
    let valid_until = (slot + 1) * period + sim.opts.qr_grace_secs;
    if chrono::Utc::now().timestamp() >= valid_until || slot > now_slot + 1 {
        return biz("医保电子凭证二维码已过期，请刷新后重新出示");
    }
    let used: Option<String> = sqlx::query_scalar("SELECT setl_id FROM used_qr WHERE qr = ?")
        .bind(&code)
        .fetch_optional(&mut *c)
        .await?;
    if used.is_some() {
        return biz("该医保电子凭证二维码已使用，请刷新后重新出示");
    }
    let token = qr::token_for(&p.secret, slot, &p.insuplc);
    sqlx::query("INSERT OR IGNORE INTO tokens (ec_token, psn_no, qr, created) VALUES (?,?,?,?)")
        .bind(&token)
        .bind(&p.psn_no)
        .bind(&code)
        .bind(fmt(t))
        .execute(&mut *c)
        .await?;
    let index = &sm_crypto::sm3::sm3_hash(format!("{}|index", p.secret).as_bytes())[..32];
    Ok(json!({"data": {
        "userName": p.name, "idNo": p.certno, "idType": "01", "insuOrg": p.insuplc,
        "ecIndexNo": index.to_uppercase(), "ecToken": token, "gender": p.gend, "birthday": p.brdy,
        "nationality": null, "email": null, "chnlId": "SIMCHNL0000000000000000000000001", "ecQrCode": code, "authNo": null
    }}))
}

async fn person_by_cert(
    c: &mut SqliteConnection,
    cert_type: &str,
    cert_no: &str,
    name: &str,
) -> R<Person> {
    match cert_type {
        "01" => {
            let psn: Option<String> =
                sqlx::query_scalar("SELECT psn_no FROM tokens WHERE ec_token = ?")
                    .bind(cert_no)
                    .fetch_optional(&mut *c)
                    .await?;
            match psn {
                Some(p) => load_person(c, &p).await,
                None => biz("电子凭证令牌无效或已过期，请重新扫码"),
            }
        }
        "02" => {
            let psn: Option<String> =
                sqlx::query_scalar("SELECT psn_no FROM persons WHERE certno = ?")
                    .bind(cert_no)
                    .fetch_optional(&mut *c)
                    .await?;
            let Some(p) = psn else {
                return biz("未查询到该身份证号的参保信息");
            };
            let p = load_person(c, &p).await?;
            if !name.is_empty() && name != p.name {
                return biz("证件号码与姓名不符，请核对患者身份信息");
            }
            Ok(p)
        }
        other => biz(format!(
            "不支持的就诊凭证类型 {other:?}（01 医保电子凭证，02 居民身份证）"
        )),
    }
}

async fn person_info(_sim: &Sim, data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let ty = req(data, "data", "mdtrt_cert_type")?;
    let no = req(data, "data", "mdtrt_cert_no")?;
    let p = person_by_cert(c, &ty, &no, &text(data, "psn_name")).await?;
    if ty == "01" && !text(data, "certno").is_empty() && text(data, "certno") != p.certno {
        return biz("证件号码与电子凭证信息不符，请核对患者身份信息");
    }
    let age = chrono::NaiveDate::parse_from_str(&p.brdy, "%Y-%m-%d")
        .map(|b| (now().date() - b).num_days() / 365)
        .unwrap_or(0);
    let idet: Vec<Value> = p
        .chronic
        .iter()
        .map(|(code, name)| json!({"psn_idet_type": "2", "psn_type_lv": null, "memo": format!("门诊慢特病备案：{code} {name}"), "begntime": "2024-01-01 00:00:00", "endtime": null}))
        .collect();
    let balc = p.balc;
    Ok(json!({
        "baseinfo": {"psn_no": p.psn_no, "psn_cert_type": "01", "certno": p.certno, "psn_name": p.name,
            "gend": p.gend, "naty": "01", "brdy": p.brdy, "age": age, "exp_content": p.owner.as_ref().map(|o| json!({"acct_owner_psn_no": o}))},
        "insuinfo": [{"balc": Fen(balc).to_string(), "insutype": p.insutype, "psn_type": p.psn_type,
            "psn_insu_stas": p.insu_stas, "psn_insu_date": "2010-01-01",
            "paus_insu_date": if p.insu_stas == "1" { Value::Null } else { json!("2026-06-30") },
            "cvlserv_flag": "0", "insuplc_admdvs": p.insuplc, "emp_name": p.emp_name}],
        "idetinfo": idet,
    }))
}

struct Visit {
    mdtrt_id: String,
    psn_no: String,
    med_type: String,
    cancelled: bool,
    ec_token: Option<String>,
}

async fn load_visit(c: &mut SqliteConnection, mdtrt_id: &str) -> R<Visit> {
    let r = sqlx::query(
        "SELECT mdtrt_id, psn_no, med_type, cancelled, ec_token FROM visits WHERE mdtrt_id = ?",
    )
    .bind(mdtrt_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(r) = r else {
        return biz(format!("就诊ID {mdtrt_id} 不存在"));
    };
    let v = Visit {
        mdtrt_id: r.get(0),
        psn_no: r.get(1),
        med_type: r.get(2),
        cancelled: r.get(3),
        ec_token: r.get(4),
    };
    if v.cancelled {
        return biz(format!("就诊ID {mdtrt_id} 已撤销挂号"));
    }
    Ok(v)
}

fn check_region(env: &RequestEnvelope, p: &Person) -> R<()> {
    if !env.insuplc_admdvs.is_empty() && env.insuplc_admdvs != p.insuplc {
        return biz(format!(
            "参保地医保区划 {} 与人员参保地 {} 不符",
            env.insuplc_admdvs, p.insuplc
        ));
    }
    Ok(())
}

async fn register(
    sim: &Sim,
    env: &RequestEnvelope,
    data: &Value,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let psn_no = req(data, "data", "psn_no")?;
    let p = load_person(c, &psn_no).await?;
    check_region(env, &p)?;
    if p.insu_stas != "1" {
        return biz("参保人参保状态为暂停参保，不能享受医保待遇");
    }
    let ty = text(data, "mdtrt_cert_type");
    let no = text(data, "mdtrt_cert_no");
    if !ty.is_empty() {
        let who = person_by_cert(c, &ty, &no, "").await?;
        if who.psn_no != p.psn_no {
            return biz("就诊凭证与人员编号不符，请重新识别患者");
        }
    }
    let seq = db::next(c, "mdtrt").await?;
    let mdtrt_id = format!("{}{:08}", &sim.opts.hospital_admdvs[..2], 30_000_000 + seq);
    let insutype = {
        let x = text(data, "insutype");
        if x.is_empty() {
            p.insutype.clone()
        } else {
            x
        }
    };
    sqlx::query("INSERT INTO visits (mdtrt_id, psn_no, insutype, med_type, ipt_otp_no, begntime, fixmedins_code, ec_token) VALUES (?,?,?,?,?,?,?,?)")
        .bind(&mdtrt_id)
        .bind(&psn_no)
        .bind(&insutype)
        .bind("11")
        .bind(text(data, "ipt_otp_no"))
        .bind({
            let b = text(data, "begntime");
            if b.is_empty() { fmt(t) } else { b }
        })
        .bind(&env.fixmedins_code)
        .bind(if ty == "01" { Some(no) } else { None })
        .execute(&mut *c)
        .await?;
    Ok(
        json!({"data": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "ipt_otp_no": text(data, "ipt_otp_no"), "exp_content": null}}),
    )
}

async fn fee_upload(sim: &Sim, input: &Value, c: &mut SqliteConnection) -> R<Value> {
    let Some(lines) = input.get("feedetail").and_then(Value::as_array) else {
        return biz("feedetail 不能为空");
    };
    if lines.is_empty() {
        return biz("feedetail 不能为空");
    }
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let at = format!("feedetail[{i}]");
        let sn = req(l, &at, "feedetl_sn")?;
        let mdtrt_id = req(l, &at, "mdtrt_id")?;
        let bch = req(l, &at, "chrg_bchno")?;
        let visit = load_visit(c, &mdtrt_id).await?;
        let cnt =
            Qty::parse(&text(l, "cnt")).map_err(|e| Biz(format!("{at}.cnt 格式错误：{e}")))?;
        let pric =
            Price::parse(&text(l, "pric")).map_err(|e| Biz(format!("{at}.pric 格式错误：{e}")))?;
        let sum = Fen::parse(&text(l, "det_item_fee_sumamt"))
            .map_err(|e| Biz(format!("{at}.det_item_fee_sumamt 格式错误：{e}")))?;
        if cnt.0 <= 0 || pric.0 < 0 {
            return biz(format!("{at}: 数量必须大于0，单价不能为负"));
        }
        if pric.times(cnt) != sum {
            return biz(format!(
                "{at}（{sn}）: 明细金额 {sum} 与数量×单价 {} 不符",
                pric.times(cnt)
            ));
        }
        let code = text(l, "med_list_codg");
        let item = sim.opts.catalog.get(&code);
        let line = match item {
            Some(it) => billing::BillLine {
                cnt,
                pric,
                ..it.line(cnt)
            },
            None => billing::BillLine {
                name: code.clone(),
                med_chrgitm_type: "14".into(),
                chrgitm_lv: billing::ChargeClass::C,
                cnt,
                pric,
                pric_uplmt_amt: None,
                selfpay_prop: None,
                med_list_codg: Some(code.clone()),
            },
        };
        let sp = line.split();
        let exists: Option<Option<String>> = sqlx::query_scalar(
            "SELECT setl_id FROM fee_lines WHERE mdtrt_id = ? AND feedetl_sn = ?",
        )
        .bind(&visit.mdtrt_id)
        .bind(&sn)
        .fetch_optional(&mut *c)
        .await?;
        if let Some(Some(_)) = exists {
            return biz(format!("{at}: 费用明细流水号 {sn} 已结算，不能重复上传"));
        }
        let result = json!({
            "feedetl_sn": sn, "det_item_fee_sumamt": sum.to_string(), "cnt": cnt.to_string(), "pric": pric.to_string(),
            "pric_uplmt_amt": line.pric_uplmt_amt.map(|p| p.to_string()).unwrap_or_else(|| "999999".into()),
            "selfpay_prop": sp.selfpay_prop.to_string(), "fulamt_ownpay_amt": sp.fulamt_ownpay_amt.to_string(),
            "overlmt_amt": sp.overlmt_amt.to_string(), "preselfpay_amt": sp.preselfpay_amt.to_string(),
            "inscp_scp_amt": sp.inscp_scp_amt.to_string(), "chrgitm_lv": line.chrgitm_lv.code(),
            "med_chrgitm_type": line.med_chrgitm_type, "bas_medn_flag": "0", "hi_nego_drug_flag": "0",
            "chld_medc_flag": null, "list_sp_item_flag": null, "lmt_used_flag": "0", "drt_reim_flag": "0",
            "memo": if item.is_none() { json!("目录外项目，按全自费处理") } else { Value::Null },
            "med_list_codg": code, "hilist_name": line.name,
        });
        sqlx::query("INSERT OR REPLACE INTO fee_lines (mdtrt_id, feedetl_sn, chrg_bchno, input_json, result_json, amount, setl_id) VALUES (?,?,?,?,?,?,NULL)")
            .bind(&visit.mdtrt_id)
            .bind(&sn)
            .bind(&bch)
            .bind(l.to_string())
            .bind(result.to_string())
            .bind(sum.0)
            .execute(&mut *c)
            .await?;
        out.push(result);
    }
    Ok(json!({"result": out}))
}

fn split_of(result: &Value) -> R<LineSplit> {
    let f = |k: &str| Fen::parse(s(result, k)).map_err(|e| Biz(format!("系统异常：明细 {k} {e}")));
    Ok(LineSplit {
        det_item_fee_sumamt: f("det_item_fee_sumamt")?,
        fulamt_ownpay_amt: f("fulamt_ownpay_amt")?,
        overlmt_amt: f("overlmt_amt")?,
        preselfpay_amt: f("preselfpay_amt")?,
        inscp_scp_amt: f("inscp_scp_amt")?,
        selfpay_prop: money::Ratio::parse(s(result, "selfpay_prop")).unwrap_or(money::Ratio::ZERO),
    })
}

fn year_of(t: NaiveDateTime) -> i64 {
    t.format("%Y").to_string().parse().unwrap_or(2026)
}

async fn usage(c: &mut SqliteConnection, psn_no: &str, year: i64) -> R<YearUsage> {
    let r = sqlx::query("SELECT dedc_used, fund_used FROM usage WHERE psn_no = ? AND year = ?")
        .bind(psn_no)
        .bind(year)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(|r| YearUsage {
        deductible_used: Fen(r.get(0)),
        fund_used: Fen(r.get(1)),
    })
    .unwrap_or_default())
}

async fn add_usage(
    c: &mut SqliteConnection,
    psn_no: &str,
    year: i64,
    dedc: i64,
    fund: i64,
) -> R<()> {
    sqlx::query("INSERT INTO usage (psn_no, year, dedc_used, fund_used) VALUES (?,?,?,?) ON CONFLICT(psn_no, year) DO UPDATE SET dedc_used = dedc_used + excluded.dedc_used, fund_used = fund_used + excluded.fund_used")
        .bind(psn_no)
        .bind(year)
        .bind(dedc)
        .bind(fund)
        .execute(&mut *c)
        .await?;
    Ok(())
}

fn setlinfo(p: &Person, visit: &Visit, st: &Settlement, extra: Value) -> Value {
    let mut v = json!({
        "mdtrt_id": visit.mdtrt_id, "setl_id": null, "psn_no": p.psn_no, "psn_name": p.name, "psn_cert_type": "01",
        "certno": p.certno, "gend": p.gend, "naty": "01", "brdy": p.brdy, "age": null,
        "insutype": p.insutype, "psn_type": p.psn_type, "cvlserv_flag": "0", "setl_time": null,
        "mdtrt_cert_type": null, "med_type": visit.med_type,
        "medfee_sumamt": st.medfee_sumamt.to_string(), "fulamt_ownpay_amt": st.fulamt_ownpay_amt.to_string(),
        "overlmt_selfpay": st.overlmt_selfpay.to_string(), "preselfpay_amt": st.preselfpay_amt.to_string(),
        "inscp_scp_amt": st.inscp_scp_amt.to_string(), "act_pay_dedc": st.act_pay_dedc.to_string(),
        "hifp_pay": st.hifp_pay.to_string(), "pool_prop_selfpay": st.pool_prop_selfpay.to_string(),
        "cvlserv_pay": st.cvlserv_pay.to_string(), "hifes_pay": st.hifes_pay.to_string(), "hifmi_pay": st.hifmi_pay.to_string(),
        "hifob_pay": st.hifob_pay.to_string(), "maf_pay": st.maf_pay.to_string(), "oth_pay": st.oth_pay.to_string(),
        "fund_pay_sumamt": st.fund_pay_sumamt.to_string(), "psn_part_amt": st.psn_part_amt.to_string(),
        "acct_pay": st.acct_pay.to_string(), "psn_cash_pay": st.psn_cash_pay.to_string(),
        "hosp_part_amt": st.hosp_part_amt.to_string(), "balc": st.balc.to_string(),
        "acct_mulaid_pay": st.acct_mulaid_pay.to_string(),
        "medins_setl_id": null, "clr_optins": null, "clr_way": null, "clr_type": null,
    });
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    v
}

fn details(st: &Settlement) -> Value {
    Value::Array(
        st.setldetail
            .iter()
            .map(|d| json!({"fund_pay_type": d.fund_pay_type, "inscp_scp_amt": d.inscp_scp_amt.to_string(),
                "crt_payb_lmt_amt": null, "fund_payamt": d.fund_payamt.to_string(),
                "fund_pay_type_name": d.fund_pay_type_name, "setl_proc_info": null}))
            .collect(),
    )
}

async fn settle(
    sim: &Sim,
    env: &RequestEnvelope,
    data: &Value,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
    commit: bool,
) -> R<Value> {
    let psn_no = req(data, "data", "psn_no")?;
    let mdtrt_id = req(data, "data", "mdtrt_id")?;
    let bch = req(data, "data", "chrg_bchno")?;
    let claimed = Fen::parse(&req(data, "data", "medfee_sumamt")?)
        .map_err(|e| Biz(format!("data.medfee_sumamt 格式错误：{e}")))?;
    let acct_used = text(data, "acct_used_flag") != "0";
    let visit = load_visit(c, &mdtrt_id).await?;
    if visit.psn_no != psn_no {
        return biz("人员编号与就诊信息不符");
    }
    let p = load_person(c, &psn_no).await?;
    check_region(env, &p)?;
    if p.insu_stas != "1" {
        return biz("参保人参保状态为暂停参保，不能享受医保待遇");
    }
    let rows = sqlx::query(
        "SELECT result_json, setl_id FROM fee_lines WHERE mdtrt_id = ? AND chrg_bchno = ?",
    )
    .bind(&mdtrt_id)
    .bind(&bch)
    .fetch_all(&mut *c)
    .await?;
    if rows.is_empty() {
        return biz(format!("收费批次 {bch} 没有已上传的费用明细"));
    }
    if rows.iter().any(|r| r.get::<Option<String>, _>(1).is_some()) {
        return biz(format!("收费批次 {bch} 已结算，请勿重复结算"));
    }
    let splits = rows
        .iter()
        .map(|r| split_of(&serde_json::from_str(&r.get::<String, _>(0)).unwrap_or(Value::Null)))
        .collect::<R<Vec<_>>>()?;
    let total: Fen = splits.iter().map(|l| l.det_item_fee_sumamt).sum();
    if total != claimed {
        return biz(format!(
            "医疗费总额 {claimed} 与上传的费用明细合计 {total} 不符"
        ));
    }
    if total > sim.opts.max_outpatient_fee {
        return biz(format!(
            "超过门诊单次结算支付限额（{} 元）",
            sim.opts.max_outpatient_fee
        ));
    }
    let year = year_of(t);
    let used = usage(c, &psn_no, year).await?;
    let region = RegionKind::classify(&p.insuplc, &sim.opts.hospital_admdvs);
    let situation = Situation {
        insutype: &p.insutype,
        med_type: &visit.med_type,
        retired: p.retired,
        region,
        hosp_lv: sim.opts.hosp_lv,
        acct_used,
    };
    let policy = sim
        .opts
        .policy
        .policy_for(&situation, used)
        .map_err(|e| Biz(format!("待遇计算失败：{e}")))?;
    let owner_balc = match &p.owner {
        Some(o) => load_person(c, o).await?.balc,
        None => 0,
    };
    let funds = PersonFunds {
        insutype: p.insutype.clone(),
        balc: Fen(p.balc),
        family_pool: Fen(owner_balc),
    };
    let st = billing::settle_splits(splits, &funds, &policy);
    if let Err(e) = st.check_identities() {
        return biz(format!("系统异常：结算数据校验失败（{e}）"));
    }
    if !commit {
        let info = setlinfo(
            &p,
            &visit,
            &st,
            json!({"medins_setl_id": env.msgid, "mdtrt_cert_type": text(data, "mdtrt_cert_type")}),
        );
        return Ok(json!({"setlinfo": info, "setldetail": details(&st)}));
    }
    let setl_id = new_setl_id(sim, c).await?;
    let info = setlinfo(
        &p,
        &visit,
        &st,
        json!({
            "setl_id": setl_id, "setl_time": fmt(t), "medins_setl_id": env.msgid, "mdtrt_cert_type": text(data, "mdtrt_cert_type"),
            "clr_optins": sim.opts.hospital_admdvs, "clr_way": "1", "clr_type": "11",
        }),
    );
    let out = json!({"setlinfo": info, "setldetail": details(&st)});
    let qr: Option<String> = match &visit.ec_token {
        Some(tok) => {
            sqlx::query_scalar("SELECT qr FROM tokens WHERE ec_token = ?")
                .bind(tok)
                .fetch_optional(&mut *c)
                .await?
        }
        None => None,
    };
    if let Some(q) = &qr {
        // A code settles once: a second checkout that resolved the same code at the
        // same time is refused here, not only at 1162.
        let used: Option<String> = sqlx::query_scalar("SELECT setl_id FROM used_qr WHERE qr = ?")
            .bind(q)
            .fetch_optional(&mut *c)
            .await?;
        if let Some(other) = used {
            return biz(format!(
                "该医保电子凭证已用于结算（{other}），请患者刷新医保码后重新扫码"
            ));
        }
    }
    apply_money(
        c,
        &p.psn_no,
        p.owner.as_deref(),
        st.acct_pay.0,
        st.acct_mulaid_pay.0,
    )
    .await?;
    add_usage(c, &psn_no, year, st.act_pay_dedc.0, st.hifp_pay.0).await?;
    if let Some(q) = &qr {
        sqlx::query("INSERT OR IGNORE INTO used_qr (qr, setl_id) VALUES (?,?)")
            .bind(q)
            .bind(&setl_id)
            .execute(&mut *c)
            .await?;
    }
    sqlx::query("UPDATE fee_lines SET setl_id = ? WHERE mdtrt_id = ? AND chrg_bchno = ?")
        .bind(&setl_id)
        .bind(&mdtrt_id)
        .bind(&bch)
        .execute(&mut *c)
        .await?;
    sqlx::query("INSERT INTO settlements VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .bind(&setl_id)
        .bind("settle")
        .bind(None::<String>)
        .bind(&mdtrt_id)
        .bind(&psn_no)
        .bind(&bch)
        .bind(&env.msgid)
        .bind(&env.fixmedins_code)
        .bind(&p.insutype)
        .bind("11")
        .bind(&sim.opts.hospital_admdvs)
        .bind(fmt(t))
        .bind(year)
        .bind(st.medfee_sumamt.0)
        .bind(st.fund_pay_sumamt.0)
        .bind(st.acct_pay.0)
        .bind(st.psn_cash_pay.0)
        .bind(st.acct_mulaid_pay.0)
        .bind(st.act_pay_dedc.0)
        .bind(st.hifp_pay.0)
        .bind(p.owner.clone())
        .bind(qr)
        .bind(out.to_string())
        .bind("valid")
        .execute(&mut *c)
        .await?;
    Ok(out)
}

/// Take (positive) or give back (negative) account money.
async fn apply_money(
    c: &mut SqliteConnection,
    psn_no: &str,
    owner: Option<&str>,
    acct: i64,
    mulaid: i64,
) -> R<()> {
    sqlx::query("UPDATE persons SET balc = balc - ? WHERE psn_no = ?")
        .bind(acct)
        .bind(psn_no)
        .execute(&mut *c)
        .await?;
    if let Some(o) = owner {
        sqlx::query("UPDATE persons SET balc = balc - ? WHERE psn_no = ?")
            .bind(mulaid)
            .bind(o)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

struct SetlRow {
    setl_id: String,
    mdtrt_id: String,
    psn_no: String,
    chrg_bchno: Option<String>,
    year: i64,
    acct: i64,
    mulaid: i64,
    dedc: i64,
    hifp: i64,
    owner: Option<String>,
    qr: Option<String>,
    output: Value,
    state: String,
    kind: String,
    orig: Option<String>,
}

async fn load_setl(c: &mut SqliteConnection, setl_id: &str) -> R<Option<SetlRow>> {
    let r = sqlx::query("SELECT setl_id, mdtrt_id, psn_no, chrg_bchno, year, acct, mulaid, dedc, hifp, owner, qr, output_json, state, kind, orig_setl_id FROM settlements WHERE setl_id = ?")
        .bind(setl_id)
        .fetch_optional(&mut *c)
        .await?;
    Ok(r.map(|r| SetlRow {
        setl_id: r.get(0),
        mdtrt_id: r.get(1),
        psn_no: r.get(2),
        chrg_bchno: r.get(3),
        year: r.get(4),
        acct: r.get(5),
        mulaid: r.get(6),
        dedc: r.get(7),
        hifp: r.get(8),
        owner: r.get(9),
        qr: r.get(10),
        output: serde_json::from_str(&r.get::<String, _>(11)).unwrap_or(Value::Null),
        state: r.get(12),
        kind: r.get(13),
        orig: r.get(14),
    }))
}

/// Undo the effects of a settlement on accounts, usage, lines and the code.
async fn undo_settlement(c: &mut SqliteConnection, s: &SetlRow) -> R<()> {
    apply_money(c, &s.psn_no, s.owner.as_deref(), -s.acct, -s.mulaid).await?;
    add_usage(c, &s.psn_no, s.year, -s.dedc, -s.hifp).await?;
    sqlx::query("UPDATE fee_lines SET setl_id = NULL WHERE setl_id = ?")
        .bind(&s.setl_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

async fn redo_settlement(c: &mut SqliteConnection, s: &SetlRow) -> R<()> {
    apply_money(c, &s.psn_no, s.owner.as_deref(), s.acct, s.mulaid).await?;
    add_usage(c, &s.psn_no, s.year, s.dedc, s.hifp).await?;
    if let Some(b) = &s.chrg_bchno {
        sqlx::query("UPDATE fee_lines SET setl_id = ? WHERE mdtrt_id = ? AND chrg_bchno = ?")
            .bind(&s.setl_id)
            .bind(&s.mdtrt_id)
            .bind(b)
            .execute(&mut *c)
            .await?;
    }
    Ok(())
}

fn negate_amounts(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if nhsa::types::MONEY_FIELDS.contains(&k.as_str()) && k != "balc" {
                    if let Some(f) = x.as_str().and_then(|t| Fen::parse(t).ok()) {
                        *x = Value::String((-f).to_string());
                    }
                } else {
                    negate_amounts(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(negate_amounts),
        _ => {}
    }
}

async fn cancel(
    sim: &Sim,
    env: &RequestEnvelope,
    setl_id: &str,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let Some(s) = load_setl(c, setl_id).await? else {
        return biz(format!("结算ID {setl_id} 不存在"));
    };
    if s.kind != "settle" {
        return biz(format!("结算ID {setl_id} 是撤销记录，不能再撤销"));
    }
    match s.state.as_str() {
        "valid" => {}
        "cancelled" => return biz(format!("结算ID {setl_id} 已撤销，请勿重复撤销")),
        _ => return biz(format!("结算ID {setl_id} 已冲正，无需撤销")),
    }
    undo_settlement(c, &s).await?;
    let balc: i64 = sqlx::query_scalar("SELECT balc FROM persons WHERE psn_no = ?")
        .bind(&s.psn_no)
        .fetch_one(&mut *c)
        .await?;
    let new_id = new_setl_id(sim, c).await?;
    let mut out = s.output.clone();
    negate_amounts(&mut out);
    out["setlinfo"]["setl_id"] = json!(new_id);
    out["setlinfo"]["orig_setl_id"] = json!(setl_id);
    out["setlinfo"]["setl_time"] = json!(fmt(t));
    out["setlinfo"]["balc"] = json!(Fen(balc).to_string());
    out["setlinfo"]["medins_setl_id"] = json!(env.msgid);
    let info = &out["setlinfo"];
    let f = |k: &str| Fen::parse(&text(info, k)).map(|x| x.0).unwrap_or(0);
    set_setl_state(c, setl_id, "cancelled").await?;
    sqlx::query("INSERT INTO settlements (setl_id, kind, orig_setl_id, mdtrt_id, psn_no, chrg_bchno, msgid, fixmedins_code, insutype, clr_type, clr_optins, setl_time, year, medfee, fund, acct, cash, mulaid, dedc, hifp, owner, qr, output_json, state) SELECT ?, 'cancel', setl_id, mdtrt_id, psn_no, chrg_bchno, ?, fixmedins_code, insutype, clr_type, clr_optins, ?, year, ?, ?, ?, ?, ?, -dedc, -hifp, owner, NULL, ?, 'valid' FROM settlements WHERE setl_id = ?")
        .bind(&new_id)
        .bind(&env.msgid)
        .bind(fmt(t))
        .bind(f("medfee_sumamt"))
        .bind(f("fund_pay_sumamt"))
        .bind(f("acct_pay"))
        .bind(f("psn_cash_pay"))
        .bind(f("acct_mulaid_pay"))
        .bind(out.to_string())
        .bind(setl_id)
        .execute(&mut *c)
        .await?;
    Ok(out)
}

async fn reverse(
    _sim: &Sim,
    env: &RequestEnvelope,
    data: &Value,
    _t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let omsgid = req(data, "data", "omsgid")?;
    let oinfno = req(data, "data", "oinfno")?;
    let psn_no = req(data, "data", "psn_no")?;
    // Only the institution that sent a message may reverse it.
    if !omsgid.starts_with(env.fixmedins_code.as_str()) {
        return biz(format!(
            "原交易报文 {omsgid} 不属于本机构 {}，不能冲正",
            env.fixmedins_code
        ));
    }
    let row = sqlx::query("SELECT infno, setl_id FROM msgs WHERE msgid = ?")
        .bind(&omsgid)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else {
        return biz(format!("原交易不存在（报文ID {omsgid}），无需冲正"));
    };
    let infno: String = row.get(0);
    if infno != oinfno {
        return biz(format!(
            "原交易编号不符：报文 {omsgid} 是 {infno}，不是 {oinfno}"
        ));
    }
    let Some(setl_id) = row.get::<Option<String>, _>(1) else {
        return biz(format!("原交易 {oinfno} 不可冲正"));
    };
    let Some(s) = load_setl(c, &setl_id).await? else {
        return biz("原交易不存在，无需冲正");
    };
    if s.psn_no != psn_no {
        return biz(format!(
            "冲正人员 {psn_no} 与原交易人员不符，不能冲正（报文ID {omsgid}）"
        ));
    }
    if s.state == "reversed" {
        return biz("原交易已冲正，请勿重复冲正");
    }
    match oinfno.as_str() {
        "2207" => {
            if s.state == "cancelled" {
                return biz("原结算已撤销，不能冲正");
            }
            undo_settlement(c, &s).await?;
            if let Some(q) = &s.qr {
                sqlx::query("DELETE FROM used_qr WHERE qr = ?")
                    .bind(q)
                    .execute(&mut *c)
                    .await?;
            }
            set_setl_state(c, &setl_id, "reversed").await?;
        }
        "2208" => {
            // The cancellation record: undo it, the original settlement stands again.
            let orig = s.orig.clone().unwrap_or_default();
            let Some(o) = load_setl(c, &orig).await? else {
                return biz("原结算不存在");
            };
            redo_settlement(c, &o).await?;
            set_setl_state(c, &orig, "valid").await?;
            set_setl_state(c, &setl_id, "reversed").await?;
        }
        other => return biz(format!("交易 {other} 不支持冲正")),
    }
    Ok(json!({"data": {"omsgid": omsgid, "oinfno": oinfno, "rever_rslt": "1", "memo": "冲正成功"}}))
}

/// Settlements counted for reconciliation: valid normal ones, plus (with
/// `refd_setl_flag` 1) cancellations and the settlements they cancelled.
async fn period_rows(
    c: &mut SqliteConnection,
    fixmedins: &str,
    data: &Value,
) -> R<Vec<(String, String, String, i64, i64, i64, i64, String)>> {
    let begin = text(data, "stmt_begndate");
    let end = text(data, "stmt_enddate");
    let refd = text(data, "refd_setl_flag") == "1";
    let rows = sqlx::query("SELECT setl_id, mdtrt_id, psn_no, medfee, fund, acct, cash, kind, state, insutype, clr_type, clr_optins FROM settlements WHERE fixmedins_code = ? AND substr(setl_time, 1, 10) BETWEEN ? AND ? ORDER BY setl_time")
        .bind(fixmedins)
        .bind(&begin)
        .bind(&end)
        .fetch_all(&mut *c)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let kind: String = r.get(7);
        let state: String = r.get(8);
        let filt = |k: &str, col: usize| {
            let want = text(data, k);
            want.is_empty() || want == r.get::<String, _>(col)
        };
        if !filt("insutype", 9) || !filt("clr_type", 10) || !filt("setl_optins", 11) {
            continue;
        }
        let counted = match (refd, kind.as_str(), state.as_str()) {
            (_, _, "reversed") => false,
            (false, "settle", "valid") => true,
            (false, _, _) => false,
            (true, _, _) => true,
        };
        if counted {
            out.push((
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                if kind == "cancel" {
                    "1".into()
                } else {
                    "0".into()
                },
            ));
        }
    }
    Ok(out)
}

async fn stmt_total(env: &RequestEnvelope, data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let rows = period_rows(c, &env.fixmedins_code, data).await?;
    let sum = |i: usize| -> i64 { rows.iter().map(|r| [r.3, r.4, r.5, r.6][i]).sum() };
    let (medfee, fund, acct, cnt) = (sum(0), sum(1), sum(2), rows.len() as i64);
    let theirs = |k: &str| Fen::parse(&text(data, k)).map(|f| f.0).unwrap_or(i64::MIN);
    let cnt_theirs: i64 = text(data, "fixmedins_setl_cnt").parse().unwrap_or(-1);
    let balanced = theirs("medfee_sumamt") == medfee
        && theirs("fund_pay_sumamt") == fund
        && theirs("acct_pay") == acct
        && cnt_theirs == cnt;
    let dscr = if balanced {
        "对账平".to_string()
    } else {
        format!(
            "对账不平：中心 医疗费总额 {} 基金支付 {} 个人账户 {} 笔数 {}",
            Fen(medfee),
            Fen(fund),
            Fen(acct),
            cnt
        )
    };
    Ok(
        json!({"stmtinfo": {"setl_optins": text(data, "setl_optins"), "stmt_rslt": if balanced { "0" } else { "1" }, "stmt_rslt_dscr": dscr,
        "medfee_sumamt": Fen(medfee).to_string(), "fund_pay_sumamt": Fen(fund).to_string(), "acct_pay": Fen(acct).to_string(), "fixmedins_setl_cnt": cnt}}),
    )
}

async fn stmt_detail(env: &RequestEnvelope, data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let no = req(data, "data", "file_qury_no")?;
    let content: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT content FROM files WHERE file_qury_no = ?")
            .bind(&no)
            .fetch_optional(&mut *c)
            .await?;
    let Some(content) = content else {
        return biz(format!("对账明细文件 {no} 不存在，请先上传（9101）"));
    };
    let text_content = String::from_utf8_lossy(&content).to_string();
    let mut ours = std::collections::BTreeMap::new();
    for (i, line) in text_content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 7 {
            return biz(format!("对账明细文件第 {} 行应有7列（setl_id mdtrt_id psn_no medfee_sumamt fund_pay_sumamt acct_pay refd_setl_flag），以制表符分隔", i + 1));
        }
        let f = |x: &str| {
            Fen::parse(x.trim())
                .map(|f| f.0)
                .map_err(|e| Biz(format!("对账明细文件第 {} 行金额错误：{e}", i + 1)))
        };
        ours.insert(
            cols[0].trim().to_string(),
            (
                cols[1].to_string(),
                cols[2].to_string(),
                f(cols[3])?,
                f(cols[4])?,
                f(cols[5])?,
                cols[6].trim().to_string(),
            ),
        );
    }
    let theirs = period_rows(c, &env.fixmedins_code, data).await?;
    let mut result = Vec::new();
    for r in &theirs {
        let (rslt, memo) = match ours.remove(&r.0) {
            None => ("1", "中心有医院无"),
            Some(o) if (o.2, o.3, o.4) != (r.3, r.4, r.5) => ("1", "金额不符"),
            Some(_) => ("0", "平"),
        };
        let msgid: Option<String> =
            sqlx::query_scalar("SELECT msgid FROM settlements WHERE setl_id = ?")
                .bind(&r.0)
                .fetch_optional(&mut *c)
                .await?;
        result.push(format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.2,
            r.1,
            r.0,
            msgid.unwrap_or_default(),
            rslt,
            r.7,
            memo,
            Fen(r.3),
            Fen(r.4),
            Fen(r.5)
        ));
    }
    for (setl_id, o) in ours {
        result.push(format!(
            "{}\t{}\t{}\t\t1\t{}\t医院有中心无\t{}\t{}\t{}",
            o.1,
            o.0,
            setl_id,
            o.5,
            Fen(o.2),
            Fen(o.3),
            Fen(o.4)
        ));
    }
    let seq = db::next(c, "file").await?;
    let out_no = format!("R{}{:08}", now().format("%Y%m%d"), seq);
    let filename = format!("{out_no}.txt");
    sqlx::query("INSERT INTO files VALUES (?,?,?)")
        .bind(&out_no)
        .bind(&filename)
        .bind(result.join("\n").into_bytes())
        .execute(&mut *c)
        .await?;
    let all_ok = result.iter().all(|l| l.split('\t').nth(4) == Some("0"));
    Ok(
        json!({"fileinfo": {"file_qury_no": out_no, "filename": filename, "dld_endtime": fmt(now() + chrono::Duration::days(1))},
        "stmt_rslt": if all_ok { "0" } else { "1" }}),
    )
}
