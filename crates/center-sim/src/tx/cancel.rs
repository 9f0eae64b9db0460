//! Undoing a settlement: 2208 cancellation (a new, negated settlement record) and
//! 2601 reversal of a 2207 or 2208 whose answer the institution never got.

use chrono::NaiveDateTime;
use money::Fen;
use nhsa::RequestEnvelope;
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use super::settle::{add_usage, apply_money, new_setl_id};
use super::{biz, fmt, req, text, R};
use crate::Sim;

async fn set_setl_state(c: &mut SqliteConnection, setl_id: &str, state: &str) -> R<()> {
    sqlx::query("UPDATE settlements SET state = ? WHERE setl_id = ?")
        .bind(state)
        .bind(setl_id)
        .execute(&mut *c)
        .await?;
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

/// A valid settlement reversed by the center's staff (the `staff_reverse` control).
pub(super) async fn reverse_by_staff(c: &mut SqliteConnection, setl_id: &str) -> R<()> {
    let Some(s) = load_setl(c, setl_id).await? else {
        return biz(format!("结算ID {setl_id} 不存在"));
    };
    if s.kind != "settle" || s.state != "valid" {
        return biz(format!(
            "结算ID {setl_id} 不是有效的结算（{} {}），不能冲正",
            s.kind, s.state
        ));
    }
    undo_settlement(c, &s).await?;
    if let Some(q) = &s.qr {
        sqlx::query("DELETE FROM used_qr WHERE qr = ?")
            .bind(q)
            .execute(&mut *c)
            .await?;
    }
    set_setl_state(c, setl_id, "reversed").await
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

pub(super) async fn cancel(
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

pub(super) async fn reverse(
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
