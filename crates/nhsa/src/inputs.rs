//! The `input` node of each transaction, written strictly with the spec's names.

use money::Fen;
use serde_json::{json, Value};

pub fn sign_in(opter_no: &str, mac: &str, ip: &str) -> Value {
    json!({"signIn": {"opter_no": opter_no, "mac": mac, "ip": ip}})
}

pub fn sign_out(sign_no: &str, opter_no: &str) -> Value {
    json!({"signOut": {"sign_no": sign_no, "opter_no": opter_no}})
}

/// 1162 for a cashier desk settling bills (用码业务类型 01301 门诊结算).
pub fn qr_decode(ec_qr_code: &str, opter: &str, opter_name: &str, dept: &str) -> Value {
    json!({"data": {"ecQrCode": ec_qr_code, "businessType": "01301", "operatorId": opter,
        "operatorName": opter_name, "officeId": dept, "officeName": dept}})
}

/// 1101 by 电子凭证 (01 + ecToken) or 身份证 (02 + number).
pub fn person_info(cert_type: &str, cert_no: &str, certno: &str, psn_name: &str) -> Value {
    json!({"data": {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no, "card_sn": "", "begntime": "",
        "psn_cert_type": if certno.is_empty() { "" } else { "01" }, "certno": certno, "psn_name": psn_name}})
}

#[allow(clippy::too_many_arguments)]
pub fn register(
    psn_no: &str,
    insutype: &str,
    begntime: &str,
    cert_type: &str,
    cert_no: &str,
    ipt_otp_no: &str,
    dr: &str,
    dept: &str,
) -> Value {
    json!({"data": {"psn_no": psn_no, "insutype": insutype, "begntime": begntime, "mdtrt_cert_type": cert_type,
        "mdtrt_cert_no": cert_no, "ipt_otp_no": ipt_otp_no, "atddr_no": dr, "dr_name": dr, "dept_code": dept,
        "dept_name": dept, "caty": "A03"}})
}

pub fn visit_upload(
    mdtrt_id: &str,
    psn_no: &str,
    med_type: &str,
    begntime: &str,
    dise_codg: &str,
    dise_name: &str,
) -> Value {
    json!({"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": med_type, "begntime": begntime,
        "main_cond_dscr": "", "dise_codg": dise_codg, "dise_name": dise_name, "birctrl_type": "", "birctrl_matn_date": ""},
        "diseinfo": if dise_codg.is_empty() { json!([]) } else { json!([{"diag_type": "1", "diag_srt_no": "1", "diag_code": dise_codg, "diag_name": dise_name, "vali_flag": "1"}]) }})
}

/// One line of 2204.
pub struct FeeDetail<'a> {
    pub feedetl_sn: &'a str,
    pub med_list_codg: &'a str,
    pub medins_list_codg: &'a str,
    pub name: &'a str,
    pub cnt: &'a str,
    pub pric: &'a str,
    pub det_item_fee_sumamt: Fen,
}

pub fn fee_upload(
    mdtrt_id: &str,
    psn_no: &str,
    chrg_bchno: &str,
    fee_ocur_time: &str,
    lines: &[FeeDetail<'_>],
) -> Value {
    let rows: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({"feedetl_sn": l.feedetl_sn, "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": chrg_bchno,
                "dise_codg": "", "rxno": "", "rx_circ_flag": "0", "fee_ocur_time": fee_ocur_time,
                "med_list_codg": l.med_list_codg, "medins_list_codg": l.medins_list_codg,
                "det_item_fee_sumamt": l.det_item_fee_sumamt.to_string(), "cnt": l.cnt, "pric": l.pric,
                "sin_dos_dscr": "", "used_frqu_dscr": "", "prd_days": "", "medc_way_dscr": "",
                "bilg_dept_codg": "", "bilg_dept_name": "", "bilg_dr_codg": "", "bilg_dr_name": "",
                "hosp_appr_flag": "0", "tcmdrug_used_way": "", "etip_flag": "", "etip_hosp_code": "",
                "dscg_tkdrug_flag": "", "matn_fee_flag": "", "memo": l.name})
        })
        .collect();
    json!({"feedetail": rows})
}

pub fn fee_cancel(mdtrt_id: &str, chrg_bchno: &str, psn_no: &str) -> Value {
    json!({"data": {"mdtrt_id": mdtrt_id, "chrg_bchno": chrg_bchno, "psn_no": psn_no}})
}

/// 2206 (and the base of 2207).
#[allow(clippy::too_many_arguments)]
pub fn pre_settle(
    psn_no: &str,
    cert_type: &str,
    cert_no: &str,
    med_type: &str,
    medfee: Fen,
    mdtrt_id: &str,
    chrg_bchno: &str,
    acct_used: bool,
    insutype: &str,
) -> Value {
    json!({"data": {"psn_no": psn_no, "mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no, "med_type": med_type,
        "medfee_sumamt": medfee.to_string(), "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": chrg_bchno,
        "acct_used_flag": if acct_used { "1" } else { "0" }, "insutype": insutype}})
}

/// 2207: 2206's input plus the invoice number and the four totals from 2206.
pub fn settle(
    pre: &Value,
    invono: &str,
    fulamt: Fen,
    overlmt: Fen,
    preselfpay: Fen,
    inscp: Fen,
) -> Value {
    let mut v = pre.clone();
    if let Some(d) = v.get_mut("data").and_then(Value::as_object_mut) {
        d.insert("invono".into(), invono.into());
        d.insert("fulamt_ownpay_amt".into(), fulamt.to_string().into());
        d.insert("overlmt_selfpay".into(), overlmt.to_string().into());
        d.insert("preselfpay_amt".into(), preselfpay.to_string().into());
        d.insert("inscp_scp_amt".into(), inscp.to_string().into());
    }
    v
}

pub fn settle_cancel(setl_id: &str, mdtrt_id: &str, psn_no: &str) -> Value {
    json!({"data": {"setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": psn_no}})
}

pub fn reverse(psn_no: &str, omsgid: &str, oinfno: &str) -> Value {
    json!({"data": {"psn_no": psn_no, "omsgid": omsgid, "oinfno": oinfno}})
}

#[allow(clippy::too_many_arguments)]
pub fn stmt_total(
    insutype: &str,
    clr_type: &str,
    setl_optins: &str,
    begin: &str,
    end: &str,
    medfee: Fen,
    fund: Fen,
    acct: Fen,
    cnt: i64,
    refd: bool,
) -> Value {
    json!({"data": {"insutype": insutype, "clr_type": clr_type, "setl_optins": setl_optins, "stmt_begndate": begin,
        "stmt_enddate": end, "medfee_sumamt": medfee.to_string(), "fund_pay_sumamt": fund.to_string(),
        "acct_pay": acct.to_string(), "fixmedins_setl_cnt": cnt.to_string(), "refd_setl_flag": if refd { "1" } else { "0" }}})
}

#[allow(clippy::too_many_arguments)]
pub fn stmt_detail(
    setl_optins: &str,
    file_qury_no: &str,
    begin: &str,
    end: &str,
    medfee: Fen,
    fund: Fen,
    cash: Fen,
    cnt: i64,
    refd: bool,
) -> Value {
    json!({"data": {"setl_optins": setl_optins, "file_qury_no": file_qury_no, "stmt_begndate": begin, "stmt_enddate": end,
        "medfee_sumamt": medfee.to_string(), "fund_pay_sumamt": fund.to_string(), "cash_payamt": cash.to_string(),
        "fixmedins_setl_cnt": cnt.to_string(), "clr_type": "11", "refd_setl_flag": if refd { "1" } else { "0" }}})
}

pub fn file_upload(content: &[u8], filename: &str, fixmedins_code: &str) -> Value {
    json!({"fsUploadIn": {"in": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, content), "filename": filename, "fixmedins_code": fixmedins_code}})
}

pub fn file_download(file_qury_no: &str, filename: &str, fixmedins_code: &str) -> Value {
    json!({"fsDownloadIn": {"file_qury_no": file_qury_no, "filename": filename, "fixmedins_code": fixmedins_code}})
}

pub fn settle_query(psn_no: &str, setl_id: &str, mdtrt_id: &str) -> Value {
    json!({"data": {"psn_no": psn_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id}})
}

pub fn visit_query(psn_no: &str, begntime: &str, endtime: &str) -> Value {
    json!({"data": {"psn_no": psn_no, "begntime": begntime, "endtime": endtime, "med_type": "", "mdtrt_id": ""}})
}
