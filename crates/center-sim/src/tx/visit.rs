//! The visit and its fees: 2201 register (and 2202 its cancellation), 2203 visit
//! information upload, 2204 fee-line upload and 2205 fee-line cancellation.

use chrono::NaiveDateTime;
use money::{Fen, Price, Qty};
use nhsa::RequestEnvelope;
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use super::identity::{load_person, person_by_cert, Person};
use super::{biz, fmt, req, text, Biz, R};
use crate::{db, Sim};

pub(super) struct Visit {
    pub(super) mdtrt_id: String,
    pub(super) psn_no: String,
    pub(super) med_type: String,
    pub(super) cancelled: bool,
    pub(super) ec_token: Option<String>,
}

pub(super) async fn load_visit(c: &mut SqliteConnection, mdtrt_id: &str) -> R<Visit> {
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

pub(super) fn check_region(env: &RequestEnvelope, p: &Person) -> R<()> {
    if !env.insuplc_admdvs.is_empty() && env.insuplc_admdvs != p.insuplc {
        return biz(format!(
            "参保地医保区划 {} 与人员参保地 {} 不符",
            env.insuplc_admdvs, p.insuplc
        ));
    }
    Ok(())
}

pub(super) async fn register(
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
    if !sim.opts.lenient {
        strict_register(sim, data)?;
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

/// What a real center checks of a 2201: the doctor is in the 医保医师库 (under the
/// name given), the department is the institution's, the 科别 is in the national
/// dictionary, and the visit has its number and time.
fn strict_register(sim: &Sim, data: &Value) -> R<()> {
    for k in [
        "ipt_otp_no",
        "begntime",
        "atddr_no",
        "dr_name",
        "dept_code",
        "dept_name",
        "caty",
    ] {
        req(data, "data", k)?;
    }
    let dr = text(data, "atddr_no");
    match sim.opts.registry.doctor(&dr) {
        None => {
            return biz(format!(
                "医保医师代码【{dr}】在医保医师库中不存在，请先备案"
            ))
        }
        Some(d) if d.name != text(data, "dr_name") => {
            return biz(format!(
                "医保医师代码【{dr}】对应医师姓名为【{}】，与传入的【{}】不一致",
                d.name,
                text(data, "dr_name")
            ))
        }
        Some(_) => {}
    }
    let dept = text(data, "dept_code");
    if sim.opts.registry.department(&dept).is_none() {
        return biz(format!("科室编码【{dept}】未在医保科室信息中上传备案"));
    }
    let caty = text(data, "caty");
    if nhsa::dict::caty_name(&caty).is_none() {
        return biz(format!("科别【{caty}】不在科别字典（caty）中"));
    }
    Ok(())
}

/// What a real center checks of 2203's diagnoses: a main diagnosis (diag_type 1,
/// diag_srt_no 1) and every field of every row, the code an ICD-10 code.
fn strict_diagnoses(input: &Value) -> R<()> {
    let rows = input
        .get("diseinfo")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if rows.is_empty() {
        return biz("diseinfo 不能为空：门诊就诊信息上传必须包含诊断信息");
    }
    for (i, r) in rows.iter().enumerate() {
        let at = format!("diseinfo[{i}]");
        for k in [
            "diag_type",
            "diag_srt_no",
            "diag_code",
            "diag_name",
            "diag_dept",
            "dise_dor_no",
            "dise_dor_name",
            "diag_time",
            "vali_flag",
        ] {
            req(r, &at, k)?;
        }
        let code = text(r, "diag_code");
        if !nhsa::dict::is_icd10(&code) {
            return biz(format!("{at}.diag_code【{code}】不是医保疾病诊断编码"));
        }
    }
    if !rows
        .iter()
        .any(|r| text(r, "diag_type") == "1" && text(r, "diag_srt_no") == "1")
    {
        return biz("未上传主诊断（diag_type 为 1 且 diag_srt_no 为 1）");
    }
    Ok(())
}

/// 2202: cancel a registration that has no settlement.
pub(super) async fn register_cancel(data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let mdtrt_id = req(data, "data", "mdtrt_id")?;
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

/// 2203: the visit's medical type and diagnosis (an outpatient chronic disease
/// must be on the person's record).
pub(super) async fn visit_upload(sim: &Sim, input: &Value, c: &mut SqliteConnection) -> R<Value> {
    let m = input.get("mdtrtinfo").cloned().unwrap_or(Value::Null);
    if !sim.opts.lenient {
        for k in ["mdtrt_id", "psn_no", "med_type", "begntime"] {
            req(&m, "mdtrtinfo", k)?;
        }
        strict_diagnoses(input)?;
    }
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

pub(super) async fn fee_upload(sim: &Sim, input: &Value, c: &mut SqliteConnection) -> R<Value> {
    let Some(lines) = input.get("feedetail").and_then(Value::as_array) else {
        return biz("feedetail 不能为空");
    };
    if lines.is_empty() {
        return biz("feedetail 不能为空");
    }
    let mut out = Vec::new();
    let batch_dise = text(&lines[0], "dise_codg");
    for (i, l) in lines.iter().enumerate() {
        let at = format!("feedetail[{i}]");
        if !sim.opts.lenient {
            strict_fee_line(sim, l, &at, &batch_dise, c).await?;
        }
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
        let item = sim
            .catalog
            .lock()
            .ok()
            .and_then(|c| c.current.get(&code).cloned());
        let item = item.as_ref();
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
                order: Default::default(),
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

/// What a real center checks of one 2204 line: the order's 开单科室 and a registered
/// 开单医生, the hospital's own code apart from the national one for a mapped item,
/// when the fee arose, and one 病种 for the whole batch — the visit's for 慢特病.
async fn strict_fee_line(
    sim: &Sim,
    l: &Value,
    at: &str,
    batch_dise: &str,
    c: &mut SqliteConnection,
) -> R<()> {
    for k in [
        "fee_ocur_time",
        "medins_list_codg",
        "med_list_codg",
        "bilg_dept_codg",
        "bilg_dept_name",
    ] {
        req(l, at, k)?;
    }
    let dr = text(l, "bilg_dr_codg");
    if dr.is_empty() || text(l, "bilg_dr_name").is_empty() {
        return biz(format!(
            "{at}: 开单医生编码（bilg_dr_codg）和姓名（bilg_dr_name）不能为空"
        ));
    }
    if sim.opts.registry.doctor(&dr).is_none() {
        return biz(format!("{at}: 开单医生【{dr}】在医保医师库中不存在"));
    }
    let code = text(l, "med_list_codg");
    let mapped = sim
        .catalog
        .lock()
        .map(|c| c.current.get(&code).is_some())
        .unwrap_or(false);
    if mapped && text(l, "medins_list_codg") == code {
        return biz(format!(
            "{at}: 医药机构目录编码【{code}】与医疗目录编码相同：请上传本院项目编码（目录对照）"
        ));
    }
    if !matches!(text(l, "hosp_appr_flag").as_str(), "" | "0" | "1" | "2") {
        return biz(format!("{at}: 医院审批标志（hosp_appr_flag）不在字典中"));
    }
    let dise = text(l, "dise_codg");
    if dise != batch_dise {
        return biz(format!(
            "{at}: 同一批次费用明细的病种编码（dise_codg）不一致：【{dise}】与【{batch_dise}】"
        ));
    }
    let mdtrt_id = req(l, at, "mdtrt_id")?;
    let (med_type, visit_dise): (String, Option<String>) =
        sqlx::query_as("SELECT med_type, dise_codg FROM visits WHERE mdtrt_id = ?")
            .bind(&mdtrt_id)
            .fetch_optional(&mut *c)
            .await?
            .unwrap_or_default();
    if matches!(med_type.as_str(), "14" | "140104" | "140201")
        && visit_dise.as_deref().unwrap_or("") != dise
    {
        return biz(format!(
            "{at}: 门诊慢特病费用明细的病种编码【{dise}】与就诊登记的病种【{}】不符",
            visit_dise.unwrap_or_default()
        ));
    }
    Ok(())
}

/// 2205: withdraw unsettled fee lines of one batch (`0000`: all of them).
pub(super) async fn fee_cancel(data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let mdtrt_id = req(data, "data", "mdtrt_id")?;
    let bch = req(data, "data", "chrg_bchno")?;
    let q = if bch == "0000" {
        sqlx::query("DELETE FROM fee_lines WHERE mdtrt_id = ? AND setl_id IS NULL").bind(&mdtrt_id)
    } else {
        sqlx::query(
            "DELETE FROM fee_lines WHERE mdtrt_id = ? AND setl_id IS NULL AND chrg_bchno = ?",
        )
        .bind(&mdtrt_id)
        .bind(bch)
    };
    q.execute(&mut *c).await?;
    Ok(json!({}))
}
