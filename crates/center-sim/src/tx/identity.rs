//! Who is at the counter: 9001 sign-in and 9002 sign-out of an operator, 1162
//! (decode an electronic-voucher QR code into a token) and 1101 (a person's
//! insurance information by token or ID card).

use chrono::NaiveDateTime;
use money::Fen;
use nhsa::RequestEnvelope;
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use super::{area_serial, biz, fmt, req, text, R};
use crate::{db, now, qr, Sim};

/// 9001: sign an operator in; the answer's `sign_no` is asked for by every
/// transaction but 9001, 1162, 1101 and 9102.
pub(super) async fn sign_in(
    sim: &Sim,
    env: &RequestEnvelope,
    input: &Value,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
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

/// 9002: end a sign-in.
pub(super) async fn sign_out(
    input: &Value,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let so = input.get("signOut").cloned().unwrap_or(Value::Null);
    let sign_no = req(&so, "signOut", "sign_no")?;
    sqlx::query("UPDATE sign_ins SET sign_out_time = ? WHERE sign_no = ?")
        .bind(fmt(t))
        .bind(&sign_no)
        .execute(&mut *c)
        .await?;
    Ok(json!({"signoutoutb": {"sign_time": fmt(t)}}))
}

pub(super) struct Person {
    pub(super) psn_no: String,
    pub(super) name: String,
    pub(super) certno: String,
    pub(super) gend: String,
    pub(super) brdy: String,
    pub(super) insutype: String,
    pub(super) psn_type: String,
    pub(super) insu_stas: String,
    pub(super) insuplc: String,
    pub(super) balc: i64,
    pub(super) retired: bool,
    pub(super) activated: bool,
    pub(super) owner: Option<String>,
    pub(super) emp_name: String,
    pub(super) secret: String,
    pub(super) chronic: Option<(String, String)>,
}

pub(super) async fn load_person(c: &mut SqliteConnection, psn_no: &str) -> R<Person> {
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

pub(super) async fn decode_qr(
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
    // As the platform does: the institution and the desk must be named.
    if text(data, "orgId").is_empty() {
        return biz("data.orgId（定点医药机构编号）不能为空");
    }
    if text(data, "officeId").is_empty() {
        return biz("data.officeId（医保科室编号）不能为空");
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

pub(super) async fn person_by_cert(
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

pub(super) async fn person_info(_sim: &Sim, data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let ty = req(data, "data", "mdtrt_cert_type")?;
    let no = req(data, "data", "mdtrt_cert_no")?;
    let p = person_by_cert(c, &ty, &no, &text(data, "psn_name")).await?;
    if ty == "01" && !text(data, "certno").is_empty() && text(data, "certno") != p.certno {
        return biz("证件号码与电子凭证信息不符，请核对患者身份信息");
    }
    let age = chrono::NaiveDate::parse_from_str(&p.brdy, "%Y-%m-%d")
        .map(|b| (now().date() - b).num_days() / 365)
        .unwrap_or(0);
    // 慢特病 registrations are not identities: 5301 lists them.
    let idet: Vec<Value> = Vec::new();
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

/// 5301: the person's 门诊慢特病 registrations, as the captured answer has them.
pub(super) async fn chronic_query(data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let psn_no = req(data, "data", "psn_no")?;
    let p = load_person(c, &psn_no).await?;
    let rows: Vec<Value> = p
        .chronic
        .iter()
        .map(|(code, name)| {
            json!({"begndate": "2024-01-01", "enddate": "2099-12-31",
            "opsp_dise_name": name, "exp_content": null, "opsp_dise_code": code})
        })
        .collect();
    Ok(json!({"feedetail": rows}))
}
