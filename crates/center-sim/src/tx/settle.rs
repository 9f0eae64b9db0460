//! The settlement itself: 2206 pre-settlement (computed, nothing kept) and 2207
//! settlement (accounts, yearly usage, fee lines and the QR code committed), with
//! the helpers the cancellation and the reversal share.

use billing::{LineSplit, PersonFunds, RegionKind, Settlement, Situation, YearUsage};
use chrono::NaiveDateTime;
use money::Fen;
use nhsa::RequestEnvelope;
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use super::identity::{load_person, Person};
use super::visit::{check_region, load_visit, Visit};
use super::{biz, fmt, req, s, text, Biz, R};
use crate::{db, Sim};

/// A new settlement id (for a settlement or its cancellation).
pub(super) async fn new_setl_id(sim: &Sim, c: &mut SqliteConnection) -> R<String> {
    let seq = db::next(c, "setl").await?;
    Ok(format!(
        "{}{:08}",
        &sim.opts.hospital_admdvs[..2],
        40_000_000 + seq
    ))
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

pub(super) async fn add_usage(
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

pub(super) async fn settle(
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
pub(super) async fn apply_money(
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
