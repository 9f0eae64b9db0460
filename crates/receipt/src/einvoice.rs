//! The 医疗收费电子票据 request (§4.4, 博思-style fields) built from a receipt;
//! kept for the regional e-invoice platform (the upload is a regional integration).

use serde_json::{json, Value};

use crate::data::{ReceiptData, ReceiptKind};

pub fn einvoice_request(r: &ReceiptData, placecode: &str) -> Value {
    let details: Vec<Value> = r
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| json!({"sortNo": i + 1, "chargeName": g.category, "std": g.amount.to_string(), "number": "1", "amt": g.amount.to_string(), "selfAmt": "0.00"}))
        .collect();
    let pay = |label: &str| {
        r.split
            .iter()
            .filter(|s| s.label.contains(label))
            .map(|s| s.amount)
            .sum::<money::Fen>()
    };
    json!({
        "busNo": r.receipt_no,
        "busType": if r.kind == ReceiptKind::Refund { "02" } else { "01" },
        "payer": r.patient,
        "busDateTime": r.time,
        "placeCode": placecode,
        "payee": r.cashier,
        "author": r.cashier,
        "totalAmt": r.total.to_string(),
        "medicalInstitution": r.institution,
        "medCareInstitution": r.institution,
        "medCareTypeCode": r.insutype,
        "medicalCareType": r.med_type,
        "medicalInsuranceID": r.setl_id,
        "fundPay": pay("统筹").to_string(),
        "accountPay": pay("个人账户").to_string(),
        "otherfundPay": pay("其他基金").to_string(),
        "ownPay": pay("现金").to_string(),
        "selfConceitedAmt": r.self_pay_in_scope.to_string(),
        "selfPayAmt": r.self_pay_out_of_scope.to_string(),
        "relatedBusNo": r.orig_setl_id,
        "chargeDetail": details,
    })
}
