//! The bill file of `yibao split` (examples/bill-B1a.json), read strictly with
//! errors that name the field and the line.

use money::{Fen, Price, Qty, Ratio};
use serde_json::{Map, Value};

use crate::line::{BillLine, ChargeClass};
use crate::settle::{AccountScope, PersonFunds, Policy};

/// An invalid bill: which field (`lines[2].cnt`, `policy.ratio`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: String,
    pub message: String,
}

fn err(field: impl Into<String>, message: impl Into<String>) -> InputError {
    InputError {
        field: field.into(),
        message: message.into(),
    }
}

/// A whole bill with the person's funds and policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillInput {
    pub med_type: String,
    pub person: PersonFunds,
    pub policy: Policy,
    pub lines: Vec<BillLine>,
}

impl BillInput {
    pub fn from_json(text: &str) -> Result<BillInput, InputError> {
        let v: Value = serde_json::from_str(strip_bom(text))
            .map_err(|e| err("(file)", format!("not valid JSON: {e}")))?;
        let root = v
            .as_object()
            .ok_or_else(|| err("(file)", "the bill must be a JSON object"))?;
        let med_type = text_field(root, "med_type", "med_type")?.unwrap_or_else(|| "11".into());
        let person = obj(root, "person", "person")?;
        let policy = obj(root, "policy", "policy")?;
        let person = PersonFunds {
            insutype: text_field(person, "insutype", "person.insutype")?
                .unwrap_or_else(|| "310".into()),
            balc: non_negative_fen(person, "balc", "person.balc")?.unwrap_or(Fen::ZERO),
            family_pool: non_negative_fen(person, "family_pool", "person.family_pool")?
                .unwrap_or(Fen::ZERO),
        };
        let ratio = ratio_field(policy, "ratio", "policy.ratio")?
            .ok_or_else(|| err("policy.ratio", "missing"))?;
        let scope = match text_field(policy, "account_scope", "policy.account_scope")?.as_deref() {
            None | Some("in_scope") => AccountScope::InScope,
            Some("all_personal") => AccountScope::AllPersonal,
            Some(o) => {
                return Err(err(
                    "policy.account_scope",
                    format!("unknown value {o:?} (in_scope or all_personal)"),
                ))
            }
        };
        let acct_used = match policy.get("acct_used") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "1" || s == "0" => s == "1",
            Some(Value::Number(n)) if n.as_i64() == Some(1) || n.as_i64() == Some(0) => {
                n.as_i64() == Some(1)
            }
            Some(o) => {
                return Err(err(
                    "policy.acct_used",
                    format!("expected true/false, got {o}"),
                ))
            }
        };
        let insutype = person.insutype.clone();
        let policy = Policy {
            deductible_remaining: non_negative_fen(
                policy,
                "deductible_remaining",
                "policy.deductible_remaining",
            )?
            .unwrap_or(Fen::ZERO),
            ratio,
            fund_cap_remaining: non_negative_fen(
                policy,
                "fund_cap_remaining",
                "policy.fund_cap_remaining",
            )?
            .ok_or_else(|| err("policy.fund_cap_remaining", "missing"))?,
            account_scope: scope,
            acct_used,
            acct_pay_limit: non_negative_fen(policy, "acct_pay_limit", "policy.acct_pay_limit")?,
            other_funds: Vec::new(),
            pool_fund_type: if insutype.starts_with("39") {
                "390100"
            } else {
                "310100"
            }
            .into(),
        };
        let lines = root
            .get("lines")
            .and_then(Value::as_array)
            .ok_or_else(|| err("lines", "missing or not a list"))?;
        if lines.is_empty() {
            return Err(err("lines", "the bill has no lines"));
        }
        let lines = lines
            .iter()
            .enumerate()
            .map(|(i, l)| parse_line(i, l))
            .collect::<Result<Vec<_>, _>>()?;
        check_bill(&lines)?;
        Ok(BillInput {
            med_type,
            person,
            policy,
            lines,
        })
    }
}

/// A bill file saved by Notepad or WPS starts with a UTF-8 byte-order mark: skip it.
pub fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// The most lines one bill may have.
pub const MAX_LINES: usize = 999;
/// The largest line amount and bill total accepted: 1 亿元.
pub const MAX_BILL: Fen = Fen(10_000_000_000);

/// The bounds every bill must keep before it is split or sent anywhere: at most
/// [`MAX_LINES`] lines, each with a count above 0, a price not below 0, and an amount
/// (cnt × pric, checked) and a total within [`MAX_BILL`]. Within these bounds no
/// later sum of the split can overflow.
pub fn check_bill(lines: &[BillLine]) -> Result<(), InputError> {
    if lines.len() > MAX_LINES {
        return Err(err(
            "lines",
            format!("{} lines: a bill has at most {MAX_LINES}", lines.len()),
        ));
    }
    let mut total = Fen::ZERO;
    for (i, l) in lines.iter().enumerate() {
        let at = |f: &str| format!("lines[{i}].{f}（{}）", l.name);
        if l.cnt.0 <= 0 {
            return Err(err(at("cnt"), "the count must be more than 0"));
        }
        if l.pric.0 < 0 {
            return Err(err(at("pric"), "negative price"));
        }
        let amount = l
            .pric
            .checked_times(l.cnt)
            .filter(|a| *a <= MAX_BILL)
            .ok_or_else(|| {
                err(
                    at("cnt"),
                    format!(
                        "{} × {} is beyond the line limit of {MAX_BILL} yuan",
                        l.cnt, l.pric
                    ),
                )
            })?;
        total = total
            .checked_add(amount)
            .filter(|t| *t <= MAX_BILL)
            .ok_or_else(|| err("lines", format!("the bill total is beyond {MAX_BILL} yuan")))?;
    }
    Ok(())
}

/// Parse one bill line object; `i` is its 0-based index (messages say `lines[i]`).
pub fn parse_line(i: usize, l: &Value) -> Result<BillLine, InputError> {
    let at = |f: &str| format!("lines[{i}].{f}");
    let o = l
        .as_object()
        .ok_or_else(|| err(format!("lines[{i}]"), "a line must be an object"))?;
    let name = text_field(o, "name", &at("name"))?.unwrap_or_default();
    let lv_text = text_field(o, "chrgitm_lv", &at("chrgitm_lv"))?
        .ok_or_else(|| err(at("chrgitm_lv"), "missing"))?;
    let class = ChargeClass::parse(&lv_text).ok_or_else(|| {
        err(
            at("chrgitm_lv"),
            format!("unknown class {lv_text:?} (01 甲类, 02 乙类, 03 丙类)"),
        )
    })?;
    let cnt_v = o.get("cnt").ok_or_else(|| err(at("cnt"), "missing"))?;
    let cnt = Qty::parse(&number_text(cnt_v, &at("cnt"))?)
        .map_err(|e| err(at("cnt"), format!("not a quantity: {e}")))?;
    if cnt.0 < 0 {
        return Err(err(at("cnt"), "negative count"));
    }
    if cnt.0 == 0 {
        return Err(err(at("cnt"), "the count must be more than 0"));
    }
    let pric_v = o.get("pric").ok_or_else(|| err(at("pric"), "missing"))?;
    let pric = Price::parse(&number_text(pric_v, &at("pric"))?)
        .map_err(|e| err(at("pric"), format!("not a price: {e}")))?;
    if pric.0 < 0 {
        return Err(err(at("pric"), "negative price"));
    }
    let cap = match o.get("pric_uplmt_amt") {
        None | Some(Value::Null) => None,
        Some(v) => {
            let p = Price::parse(&number_text(v, &at("pric_uplmt_amt"))?)
                .map_err(|e| err(at("pric_uplmt_amt"), format!("not a price: {e}")))?;
            if p.0 < 0 {
                return Err(err(at("pric_uplmt_amt"), "negative price cap"));
            }
            Some(p)
        }
    };
    let prop = ratio_field(o, "selfpay_prop", &at("selfpay_prop"))?;
    if class == ChargeClass::A && prop.is_some_and(|p| p.0 != 0) {
        return Err(err(
            at("selfpay_prop"),
            "a 甲类 line has no self-pay share (use 02 for 乙类)",
        ));
    }
    Ok(BillLine {
        name,
        med_chrgitm_type: text_field(o, "med_chrgitm_type", &at("med_chrgitm_type"))?
            .unwrap_or_else(|| "14".into()),
        chrgitm_lv: class,
        cnt,
        pric,
        pric_uplmt_amt: cap,
        selfpay_prop: prop,
        med_list_codg: text_field(o, "med_list_codg", &at("med_list_codg"))?,
        order: {
            let t = |k: &str| -> Result<String, InputError> {
                Ok(text_field(o, k, &at(k))?
                    .unwrap_or_default()
                    .trim()
                    .to_string())
            };
            let hosp_appr_flag = t("hosp_appr_flag")?;
            if !matches!(hosp_appr_flag.as_str(), "" | "0" | "1" | "2") {
                return Err(err(
                    at("hosp_appr_flag"),
                    format!(
                        "unknown flag {hosp_appr_flag:?} (0 无需审批, 1 审批通过, 2 审批不通过)"
                    ),
                ));
            }
            crate::line::LineOrder {
                medins_list_codg: t("medins_list_codg")?,
                rxno: t("rxno")?,
                bilg_dept_codg: t("bilg_dept_codg")?,
                bilg_dept_name: t("bilg_dept_name")?,
                bilg_dr_codg: t("bilg_dr_codg")?,
                bilg_dr_name: t("bilg_dr_name")?,
                hosp_appr_flag,
            }
        },
    })
}

fn obj<'a>(
    m: &'a Map<String, Value>,
    k: &str,
    field: &str,
) -> Result<&'a Map<String, Value>, InputError> {
    m.get(k)
        .and_then(Value::as_object)
        .ok_or_else(|| err(field, "missing or not an object"))
}

fn text_field(m: &Map<String, Value>, k: &str, field: &str) -> Result<Option<String>, InputError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(o) => Err(err(field, format!("expected text, got {o}"))),
    }
}

fn number_text(v: &Value, field: &str) -> Result<String, InputError> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        o => Err(err(field, format!("expected a decimal number, got {o}"))),
    }
}

fn non_negative_fen(
    m: &Map<String, Value>,
    k: &str,
    field: &str,
) -> Result<Option<Fen>, InputError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let f = Fen::parse(&number_text(v, field)?).map_err(|e| {
                err(
                    field,
                    format!("not an amount in yuan with at most two decimals: {e}"),
                )
            })?;
            if f.is_negative() {
                return Err(err(field, "negative amount"));
            }
            Ok(Some(f))
        }
    }
}

fn ratio_field(m: &Map<String, Value>, k: &str, field: &str) -> Result<Option<Ratio>, InputError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let r = Ratio::parse(&number_text(v, field)?)
                .map_err(|e| err(field, format!("not a ratio: {e}")))?;
            if !r.is_within_unit() {
                return Err(err(field, format!("ratio {r} is outside 0..1")));
            }
            Ok(Some(r))
        }
    }
}
