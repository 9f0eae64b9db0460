//! The `input` node of each transaction, written strictly with the spec's names.

use money::Fen;
use serde_json::{json, Value};

pub fn sign_in(opter_no: &str, mac: &str, ip: &str) -> Value {
    json!({"signIn": {"opter_no": opter_no, "mac": mac, "ip": ip}})
}

pub fn sign_out(sign_no: &str, opter_no: &str) -> Value {
    json!({"signOut": {"sign_no": sign_no, "opter_no": opter_no}})
}

/// 1162 for a cashier desk settling bills (用码业务类型 01301 门诊结算): the institution
/// (`orgId`, its 定点医药机构编号) and the desk's 医保科室编号 and name.
pub fn qr_decode(
    ec_qr_code: &str,
    org_id: &str,
    opter: &str,
    opter_name: &str,
    office_id: &str,
    office_name: &str,
) -> Value {
    json!({"data": {"ecQrCode": ec_qr_code, "orgId": org_id, "businessType": "01301",
        "operatorId": opter, "operatorName": opter_name, "officeId": office_id,
        "officeName": office_name}})
}

/// 1101 by 电子凭证 (01 + ecToken) or 身份证 (02 + number).
pub fn person_info(cert_type: &str, cert_no: &str, certno: &str, psn_name: &str) -> Value {
    json!({"data": {"mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no, "card_sn": "", "begntime": "",
        "psn_cert_type": if certno.is_empty() { "" } else { "01" }, "certno": certno, "psn_name": psn_name}})
}

/// 2201 for a visit from the HIS: the visit's own doctor, department, 科别, 门诊号
/// and time (no field is filled from the cashier).
pub fn register_visit(
    psn_no: &str,
    insutype: &str,
    cert_type: &str,
    cert_no: &str,
    visit: &crate::visit::Visit,
) -> Value {
    let mut data = json!({"psn_no": psn_no, "insutype": insutype, "mdtrt_cert_type": cert_type,
        "mdtrt_cert_no": cert_no});
    if let (Some(d), Some(v)) = (data.as_object_mut(), visit.register_fields().as_object()) {
        d.extend(v.clone());
    }
    json!({"data": data})
}

/// 2203 for a visit from the HIS: every diagnosis with all its fields.
pub fn visit_upload_visit(
    mdtrt_id: &str,
    psn_no: &str,
    med_type: &str,
    visit: &crate::visit::Visit,
) -> Value {
    // The 病种 belongs to a 慢特病 visit (med_type 14) only.
    let chronic = med_type == "14";
    let (dise_codg, dise_name) = if chronic {
        (visit.dise_codg.as_str(), visit.dise_name.as_str())
    } else {
        ("", "")
    };
    json!({"mdtrtinfo": {"mdtrt_id": mdtrt_id, "psn_no": psn_no, "med_type": med_type,
        "begntime": visit.begntime, "main_cond_dscr": "", "dise_codg": dise_codg,
        "dise_name": dise_name, "birctrl_type": "", "birctrl_matn_date": ""},
        "diseinfo": visit.diseinfo_rows()})
}

/// 2202: cancel a registration (after its settlement was cancelled in full).
pub fn register_cancel(psn_no: &str, mdtrt_id: &str, ipt_otp_no: &str) -> Value {
    json!({"data": {"psn_no": psn_no, "mdtrt_id": mdtrt_id, "ipt_otp_no": ipt_otp_no}})
}

/// 1301/1302/1305/1306: the catalogue rows changed after version `ver` ("0": all),
/// answered as a file to fetch with 9102.
pub fn catalog_download(ver: &str) -> Value {
    json!({"data": {"ver": ver}})
}

/// 1318/1319: one page of the 限价 / 先自付比例 rows updated after `updt_time`.
pub fn catalog_page(updt_time: &str, page_num: u32, page_size: u32) -> Value {
    json!({"data": {"query_date": "", "hilist_code": "", "updt_time": updt_time,
        "page_num": page_num, "page_size": page_size}})
}

/// One order line as 3101 analyses it.
pub struct RuleOrder<'a> {
    pub rx_id: &'a str,
    pub hilist_code: &'a str,
    pub hosp_list_code: &'a str,
    pub hilist_name: &'a str,
    pub cnt: &'a str,
    pub pric: &'a str,
    pub sumamt: Fen,
    pub dr_code: &'a str,
}

/// 3101: the visit and its orders for the 事前事中 analysis; `trig_scen` 7 is the
/// outpatient pre-settlement (门诊预结算), the counter's moment before it settles.
#[allow(clippy::too_many_arguments)]
pub fn rule_check(
    psn_no: &str,
    psn_name: &str,
    gend: &str,
    brdy: &str,
    insuplc: &str,
    mdtrt_id: &str,
    fixmedins_code: &str,
    visit: &crate::visit::Visit,
    orders: &[RuleOrder<'_>],
) -> Value {
    let diag: Vec<Value> = visit
        .diseinfo
        .iter()
        .map(|d| json!({"dise_id": d.diag_srt_no.to_string(), "inout_dise_type": "1",
            "maindise_flag": if d.diag_srt_no == 1 { "1" } else { "0" }, "dias_srt_no": d.diag_srt_no.to_string(),
            "dise_codg": d.diag_code, "dise_name": d.diag_name, "dise_date": d.diag_time}))
        .collect();
    let ords: Vec<Value> = orders
        .iter()
        .map(|o| json!({"rx_id": o.rx_id, "hilist_code": o.hilist_code, "hosp_list_code": o.hosp_list_code,
            "hilist_name": o.hilist_name, "cnt": o.cnt, "pric": o.pric, "sumamt": o.sumamt.to_string(),
            "drord_dr_codg": o.dr_code, "drord_dept_codg": visit.dept_code, "medi_type": "11"}))
        .collect();
    json!({"data": {"syscode": "YBXT", "patn_id": psn_no, "patn_name": psn_name, "gend": gend, "brdy": brdy,
        "poolarea": insuplc, "curr_mdtrt_id": mdtrt_id, "trig_scen": "7",
        "fsi_encounter_dtos": [{"mdtrt_id": mdtrt_id, "medins_id": fixmedins_code, "medins_name": "",
            "dr_codg": visit.atddr_no, "adm_dept_codg": visit.dept_code, "adm_date": visit.begntime,
            "med_mdtrt_type": "1", "med_type": "11",
            "fsi_diagnose_dtos": diag, "fsi_order_dtos": ords}]}})
}

/// 3102: what the counter did about each 3101 hit (`dspo_way` 1 继续执行, 2 返回修改).
pub fn rule_feedback(hits: &[(&str, &str)], dspo_way: &str) -> Value {
    let rows: Vec<Value> = hits
        .iter()
        .map(|(jr_id, reason)| json!({"warn_rslt_id": jr_id, "dspo_way": dspo_way, "dspo_way_rea": reason}))
        .collect();
    json!({"data": {"warn_type": "1", "warns": rows}})
}

/// 5301: the person's 门诊慢特病 registrations.
pub fn chronic_query(psn_no: &str) -> Value {
    json!({"data": {"psn_no": psn_no}})
}

/// One line of 2204: the hospital's item code and the national code apart, the order
/// it comes from (处方号, 开单科室 and 开单医生) and the 医院审批标志.
pub struct FeeDetail<'a> {
    pub feedetl_sn: &'a str,
    pub med_list_codg: &'a str,
    pub medins_list_codg: &'a str,
    pub name: &'a str,
    pub cnt: &'a str,
    pub pric: &'a str,
    pub det_item_fee_sumamt: Fen,
    pub rxno: &'a str,
    pub bilg_dept_codg: &'a str,
    pub bilg_dept_name: &'a str,
    pub bilg_dr_codg: &'a str,
    pub bilg_dr_name: &'a str,
    pub hosp_appr_flag: &'a str,
}

/// 2204: `dise_codg` is the 慢特病 病种 on every line of a med_type 14 batch (empty
/// otherwise); `fee_ocur_time` is when the fees arose (the visit's time, also when
/// an offline checkout is replayed later).
pub fn fee_upload(
    mdtrt_id: &str,
    psn_no: &str,
    chrg_bchno: &str,
    dise_codg: &str,
    fee_ocur_time: &str,
    lines: &[FeeDetail<'_>],
) -> Value {
    let rows: Vec<Value> = lines
        .iter()
        .map(|l| {
            json!({"feedetl_sn": l.feedetl_sn, "mdtrt_id": mdtrt_id, "psn_no": psn_no, "chrg_bchno": chrg_bchno,
                "dise_codg": dise_codg, "rxno": l.rxno, "rx_circ_flag": "0", "fee_ocur_time": fee_ocur_time,
                "med_list_codg": l.med_list_codg, "medins_list_codg": l.medins_list_codg,
                "det_item_fee_sumamt": l.det_item_fee_sumamt.to_string(), "cnt": l.cnt, "pric": l.pric,
                "sin_dos_dscr": "", "used_frqu_dscr": "", "prd_days": "", "medc_way_dscr": "",
                "bilg_dept_codg": l.bilg_dept_codg, "bilg_dept_name": l.bilg_dept_name,
                "bilg_dr_codg": l.bilg_dr_codg, "bilg_dr_name": l.bilg_dr_name,
                "hosp_appr_flag": l.hosp_appr_flag, "tcmdrug_used_way": "", "etip_flag": "", "etip_hosp_code": "",
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

/// 3202 for one 3201 group: its own `clr_type`.
#[allow(clippy::too_many_arguments)]
pub fn stmt_detail(
    setl_optins: &str,
    clr_type: &str,
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
        "fixmedins_setl_cnt": cnt.to_string(), "clr_type": clr_type, "refd_setl_flag": if refd { "1" } else { "0" }}})
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

#[cfg(test)]
mod golden {
    use super::*;
    use crate::visit::Visit;

    fn visit() -> Visit {
        Visit::demo("MZ202612010001", "2026-12-01 08:30:00")
    }

    fn keys(v: &Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    /// 1162 names the institution (orgId) and the desk by its code, not by its name.
    #[test]
    fn qr_decode_sends_the_institution_and_the_desks_code() {
        let v = qr_decode(
            "QR",
            "H44030300001",
            "C001",
            "李收费",
            "SF001",
            "门诊收费处",
        );
        let d = &v["data"];
        assert_eq!(
            keys(d),
            [
                "businessType",
                "ecQrCode",
                "officeId",
                "officeName",
                "operatorId",
                "operatorName",
                "orgId"
            ]
        );
        assert_eq!(d["orgId"], "H44030300001");
        assert_eq!(d["officeId"], "SF001");
        assert_eq!(d["officeName"], "门诊收费处");
    }

    /// 2201 carries exactly the interface's fields, the doctor and department the HIS
    /// named — not the cashier, not the department's name as its code.
    #[test]
    fn register_sends_the_visits_doctor_and_department() {
        let v = register_visit("P1", "310", "02", "44030519850312001X", &visit());
        let d = &v["data"];
        assert_eq!(
            keys(d),
            [
                "atddr_no",
                "begntime",
                "caty",
                "dept_code",
                "dept_name",
                "dr_name",
                "insutype",
                "ipt_otp_no",
                "mdtrt_cert_no",
                "mdtrt_cert_type",
                "psn_no"
            ]
        );
        assert_eq!(d["atddr_no"], "D440300000001");
        assert_eq!(d["dr_name"], "李明");
        assert_eq!(d["dept_code"], "A03.01");
        assert_eq!(d["caty"], "A03");
        assert_eq!(d["ipt_otp_no"], "MZ202612010001");
    }

    /// 2203 carries every diagnosis with all its fields.
    #[test]
    fn visit_upload_sends_every_diagnosis_field() {
        let v = visit_upload_visit("M1", "P1", "11", &visit());
        let row = &v["diseinfo"][0];
        assert_eq!(
            keys(row),
            [
                "diag_code",
                "diag_dept",
                "diag_name",
                "diag_srt_no",
                "diag_time",
                "diag_type",
                "dise_dor_name",
                "dise_dor_no",
                "vali_flag"
            ]
        );
        assert_eq!(row["diag_code"], "I10.x00");
        assert_eq!(row["diag_srt_no"], "1");
        assert_eq!(v["mdtrtinfo"]["begntime"], "2026-12-01 08:30:00");
    }

    /// 2204: the hospital's code and the national code apart, the order's 处方号,
    /// 开单科室 and 开单医生, the item's 审批标志, and the 病种 on every line of a
    /// 慢特病 batch.
    #[test]
    fn fee_upload_sends_the_orders_fields_on_every_line() {
        let line = FeeDetail {
            feedetl_sn: "B1-001",
            med_list_codg: "XJ01CAA040A001010100001",
            medins_list_codg: "HOSP-YP-0001",
            name: "阿莫西林胶囊",
            cnt: "2",
            pric: "25.00",
            det_item_fee_sumamt: Fen(5000),
            rxno: "RX202612010001",
            bilg_dept_codg: "A03.01",
            bilg_dept_name: "心血管内科门诊",
            bilg_dr_codg: "D440300000001",
            bilg_dr_name: "李明",
            hosp_appr_flag: "1",
        };
        let v = fee_upload("M1", "P1", "B1", "M03900", "2026-12-01 08:30:00", &[line]);
        let row = &v["feedetail"][0];
        assert_eq!(
            keys(row),
            [
                "bilg_dept_codg",
                "bilg_dept_name",
                "bilg_dr_codg",
                "bilg_dr_name",
                "chrg_bchno",
                "cnt",
                "det_item_fee_sumamt",
                "dise_codg",
                "dscg_tkdrug_flag",
                "etip_flag",
                "etip_hosp_code",
                "fee_ocur_time",
                "feedetl_sn",
                "hosp_appr_flag",
                "matn_fee_flag",
                "mdtrt_id",
                "med_list_codg",
                "medc_way_dscr",
                "medins_list_codg",
                "memo",
                "prd_days",
                "pric",
                "psn_no",
                "rx_circ_flag",
                "rxno",
                "sin_dos_dscr",
                "tcmdrug_used_way",
                "used_frqu_dscr"
            ]
        );
        assert_eq!(row["medins_list_codg"], "HOSP-YP-0001");
        assert_eq!(row["med_list_codg"], "XJ01CAA040A001010100001");
        assert_eq!(row["rxno"], "RX202612010001");
        assert_eq!(row["bilg_dr_codg"], "D440300000001");
        assert_eq!(row["bilg_dept_codg"], "A03.01");
        assert_eq!(row["hosp_appr_flag"], "1");
        assert_eq!(row["dise_codg"], "M03900");
        assert_eq!(row["det_item_fee_sumamt"], "50.00");
        assert_eq!(row["fee_ocur_time"], "2026-12-01 08:30:00");
    }

    /// 2206 and 2207: exactly the interface's fields; 2207 adds the invoice number and
    /// the four totals 2206 answered.
    #[test]
    fn pre_settle_and_settle_send_the_interfaces_fields() {
        let pre = pre_settle(
            "P1",
            "01",
            "TOKEN",
            "14",
            Fen(7000),
            "M1",
            "B1",
            true,
            "310",
        );
        assert_eq!(
            keys(&pre["data"]),
            [
                "acct_used_flag",
                "chrg_bchno",
                "insutype",
                "mdtrt_cert_no",
                "mdtrt_cert_type",
                "mdtrt_id",
                "med_type",
                "medfee_sumamt",
                "psn_no",
                "psn_setlway"
            ]
        );
        assert_eq!(pre["data"]["medfee_sumamt"], "70.00");
        assert_eq!(pre["data"]["med_type"], "14");
        let s = settle(&pre, "INV1", Fen(0), Fen(0), Fen(700), Fen(6300));
        assert_eq!(
            keys(&s["data"]),
            [
                "acct_used_flag",
                "chrg_bchno",
                "fulamt_ownpay_amt",
                "inscp_scp_amt",
                "insutype",
                "invono",
                "mdtrt_cert_no",
                "mdtrt_cert_type",
                "mdtrt_id",
                "med_type",
                "medfee_sumamt",
                "overlmt_selfpay",
                "preselfpay_amt",
                "psn_no",
                "psn_setlway"
            ]
        );
        assert_eq!(s["data"]["preselfpay_amt"], "7.00");
    }

    /// A 慢特病 visit's 2203 names the 病种 in mdtrtinfo; an ordinary visit does not.
    #[test]
    fn visit_upload_names_the_chronic_disease_only_for_med_type_14() {
        let mut v = visit();
        v.dise_codg = "M03900".into();
        v.dise_name = "高血压".into();
        let chronic = visit_upload_visit("M1", "P1", "14", &v);
        assert_eq!(chronic["mdtrtinfo"]["dise_codg"], "M03900");
        assert_eq!(chronic["mdtrtinfo"]["dise_name"], "高血压");
        let plain = visit_upload_visit("M1", "P1", "11", &v);
        assert_eq!(plain["mdtrtinfo"]["dise_codg"], "");
    }

    #[test]
    fn a_visit_without_a_doctor_code_or_main_diagnosis_says_what_is_missing() {
        let mut v = visit();
        assert!(v.missing().is_empty(), "{:?}", v.missing());
        v.atddr_no.clear();
        v.diseinfo[0].diag_srt_no = 2;
        let m = v.missing();
        assert!(m.iter().any(|s| s.contains("医保医师编码")), "{m:?}");
        assert!(m.iter().any(|s| s.contains("主诊断")), "{m:?}");
    }
}
