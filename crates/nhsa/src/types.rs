//! Typed transaction inputs and outputs (field names exactly as the spec's).
//! Reading is tolerant: amounts as numbers or strings, `null`, unknown keys.

use money::{Fen, Ratio};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Text that may arrive as a string, a number or null.
pub fn de_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if b { "1" } else { "0" }.into()),
        _ => None,
    })
}

/// 9001 / 9002 output `signinoutb`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignInOut {
    #[serde(default, deserialize_with = "de_text")]
    pub sign_no: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub sign_time: Option<String>,
}

/// 1101 output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PsnInfo {
    pub baseinfo: BaseInfo,
    #[serde(default)]
    pub insuinfo: Vec<InsuInfo>,
    #[serde(default)]
    pub idetinfo: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseInfo {
    #[serde(default, deserialize_with = "de_text")]
    pub psn_no: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_cert_type: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub certno: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_name: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub gend: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub naty: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub brdy: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub age: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsuInfo {
    #[serde(default)]
    pub balc: Option<Fen>,
    #[serde(default, deserialize_with = "de_text")]
    pub insutype: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_type: Option<String>,
    /// 参保状态: "1" 正常参保; others (2 暂停, 4 终止…) are not payable.
    #[serde(default, deserialize_with = "de_text")]
    pub psn_insu_stas: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_insu_date: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub paus_insu_date: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub cvlserv_flag: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub insuplc_admdvs: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub emp_name: Option<String>,
}

impl InsuInfo {
    pub fn active(&self) -> bool {
        self.psn_insu_stas.as_deref() == Some("1")
    }
}

impl PsnInfo {
    /// The main insurance the cashier settles on: the active 310 (职工) or 390
    /// (居民) row; otherwise the first active row; otherwise the first row.
    pub fn main_insuinfo(&self) -> Option<&InsuInfo> {
        let main = |i: &&InsuInfo| matches!(i.insutype.as_deref(), Some("310" | "390" | "391"));
        self.insuinfo
            .iter()
            .find(|i| i.active() && main(i))
            .or_else(|| self.insuinfo.iter().find(|i| i.active()))
            .or_else(|| self.insuinfo.iter().find(main))
            .or(self.insuinfo.first())
    }
}

/// 1162 output (电子凭证解码).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcInfo {
    #[serde(default, deserialize_with = "de_text")]
    pub ec_token: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub id_no: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub id_type: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub user_name: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub insu_org: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub ec_index_no: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub chnl_id: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub ec_qr_code: Option<String>,
}

/// One 2204 `result[]` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeeResult {
    #[serde(default, deserialize_with = "de_text")]
    pub feedetl_sn: Option<String>,
    pub det_item_fee_sumamt: Fen,
    #[serde(default)]
    pub pric_uplmt_amt: Option<Fen>,
    #[serde(default)]
    pub selfpay_prop: Option<Ratio>,
    #[serde(default)]
    pub fulamt_ownpay_amt: Option<Fen>,
    #[serde(default)]
    pub overlmt_amt: Option<Fen>,
    #[serde(default)]
    pub preselfpay_amt: Option<Fen>,
    #[serde(default)]
    pub inscp_scp_amt: Option<Fen>,
    #[serde(default, deserialize_with = "de_text")]
    pub chrgitm_lv: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub med_chrgitm_type: Option<String>,
}

/// `setlinfo` of 2206/2207/2208/5203. Money fields are optional because real
/// centers send nulls and regional variants (see `unmapped`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Setlinfo {
    #[serde(default, deserialize_with = "de_text")]
    pub mdtrt_id: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub setl_id: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_no: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_name: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub insutype: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub psn_type: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub setl_time: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub med_type: Option<String>,
    #[serde(default)]
    pub medfee_sumamt: Option<Fen>,
    #[serde(default)]
    pub fulamt_ownpay_amt: Option<Fen>,
    #[serde(default)]
    pub overlmt_selfpay: Option<Fen>,
    #[serde(default)]
    pub preselfpay_amt: Option<Fen>,
    #[serde(default)]
    pub inscp_scp_amt: Option<Fen>,
    #[serde(default)]
    pub act_pay_dedc: Option<Fen>,
    #[serde(default)]
    pub hifp_pay: Option<Fen>,
    #[serde(default)]
    pub pool_prop_selfpay: Option<Ratio>,
    #[serde(default)]
    pub cvlserv_pay: Option<Fen>,
    #[serde(default)]
    pub hifes_pay: Option<Fen>,
    #[serde(default)]
    pub hifmi_pay: Option<Fen>,
    #[serde(default)]
    pub hifob_pay: Option<Fen>,
    #[serde(default)]
    pub maf_pay: Option<Fen>,
    #[serde(default)]
    pub oth_pay: Option<Fen>,
    #[serde(default)]
    pub fund_pay_sumamt: Option<Fen>,
    #[serde(default)]
    pub psn_part_amt: Option<Fen>,
    #[serde(default)]
    pub acct_pay: Option<Fen>,
    #[serde(default)]
    pub acct_mulaid_pay: Option<Fen>,
    #[serde(default)]
    pub psn_cash_pay: Option<Fen>,
    #[serde(default)]
    pub hosp_part_amt: Option<Fen>,
    #[serde(default)]
    pub balc: Option<Fen>,
    #[serde(default, deserialize_with = "de_text")]
    pub medins_setl_id: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub clr_optins: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub clr_way: Option<String>,
    #[serde(default, deserialize_with = "de_text")]
    pub clr_type: Option<String>,
}

/// One `setldetail[]` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetlDetail {
    #[serde(default, deserialize_with = "de_text")]
    pub fund_pay_type: Option<String>,
    #[serde(default)]
    pub inscp_scp_amt: Option<Fen>,
    #[serde(default)]
    pub crt_payb_lmt_amt: Option<Fen>,
    #[serde(default)]
    pub fund_payamt: Option<Fen>,
    #[serde(default, deserialize_with = "de_text")]
    pub fund_pay_type_name: Option<String>,
}

/// 2206/2207/2208/5203 output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettleOutput {
    pub setlinfo: Setlinfo,
    #[serde(default)]
    pub setldetail: Vec<SetlDetail>,
}

/// Regional names for fields we know, reported rather than guessed.
const KNOWN_VARIANTS: [(&str, &str); 3] = [
    ("psn_part_amt", "psn_pay"),
    ("hosp_part_amt", "ownpay_hosp_part"),
    ("psn_cash_pay", "pdn_cash_pay"),
];

impl Setlinfo {
    /// The funds other than 统筹 (公务员, 大额, 大病, 救助, 企业补充, 其他), summed; missing = 0.
    pub fn other_fund_pay(&self) -> Fen {
        [
            self.cvlserv_pay,
            self.hifes_pay,
            self.hifmi_pay,
            self.hifob_pay,
            self.maf_pay,
            self.oth_pay,
        ]
        .into_iter()
        .flatten()
        .sum()
    }

    /// Check the identities of §1.5 that the present fields allow. Returns the
    /// checks that could not be made (a field missing), or the first broken one.
    pub fn check_identities(&self, raw: &Value) -> Result<Vec<String>, String> {
        let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
        let mut unchecked = Vec::new();
        for (field, variant) in KNOWN_VARIANTS {
            let present = raw.get(field).is_some_and(|v| !v.is_null());
            if !present && raw.get(variant).is_some_and(|v| !v.is_null()) {
                unchecked.push(format!(
                    "{field} is null; this center sends {variant} instead — not mapped, identities using {field} not checked"
                ));
            }
        }
        let Some(medfee) = self.medfee_sumamt else {
            return Err("setlinfo.medfee_sumamt is missing".into());
        };
        let parts = z(self.fulamt_ownpay_amt)
            + z(self.overlmt_selfpay)
            + z(self.preselfpay_amt)
            + z(self.inscp_scp_amt);
        if parts != medfee {
            return Err(format!(
                "medfee_sumamt {medfee} ≠ fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt = {parts}"
            ));
        }
        match (self.fund_pay_sumamt, self.psn_part_amt) {
            (Some(fund), Some(psn)) => {
                let whole = fund + psn + z(self.hosp_part_amt);
                if whole != medfee {
                    return Err(format!(
                        "medfee_sumamt {medfee} ≠ fund_pay_sumamt + psn_part_amt + hosp_part_amt = {whole}"
                    ));
                }
                let person = z(self.acct_pay) + z(self.acct_mulaid_pay) + z(self.psn_cash_pay);
                let person_without_mulaid = z(self.acct_pay) + z(self.psn_cash_pay);
                if psn != person && psn != person_without_mulaid {
                    return Err(format!(
                        "psn_part_amt {psn} ≠ acct_pay + acct_mulaid_pay + psn_cash_pay = {person}"
                    ));
                }
            }
            _ => unchecked
                .push("medfee_sumamt = fund_pay_sumamt + psn_part_amt + hosp_part_amt".into()),
        }
        Ok(unchecked)
    }
}

impl FeeResult {
    pub fn check_identity(&self) -> Result<(), String> {
        let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
        let parts = z(self.fulamt_ownpay_amt)
            + z(self.overlmt_amt)
            + z(self.preselfpay_amt)
            + z(self.inscp_scp_amt);
        if parts != self.det_item_fee_sumamt {
            return Err(format!(
                "line {}: det_item_fee_sumamt {} ≠ fulamt + overlmt + preselfpay + inscp = {parts}",
                self.feedetl_sn.as_deref().unwrap_or("?"),
                self.det_item_fee_sumamt
            ));
        }
        Ok(())
    }
}

/// Field names whose values are amounts (normalised to two-place strings).
pub const MONEY_FIELDS: &[&str] = &[
    "medfee_sumamt",
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "overlmt_amt",
    "preselfpay_amt",
    "inscp_scp_amt",
    "act_pay_dedc",
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "acct_mulaid_pay",
    "psn_cash_pay",
    "hosp_part_amt",
    "balc",
    "det_item_fee_sumamt",
    "fund_payamt",
    "crt_payb_lmt_amt",
    "psn_pay",
    "ownpay_hosp_part",
    "cashPayamt",
    "othfund_pay",
    "hifdm_pay",
    "inscp_amt",
    "dedc_std",
    "crt_dedc",
    "cash_payamt",
    "pdn_cash_pay",
];

/// Normalise a response output: every amount field becomes a two-place
/// decimal string (exact; an amount with more than two decimals is an error).
pub fn normalise_amounts(v: &mut Value, path: &str) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let p = format!("{path}.{k}");
                if MONEY_FIELDS.contains(&k.as_str()) {
                    let text = match &*x {
                        Value::Null => continue,
                        Value::Number(n) => n.to_string(),
                        Value::String(s) if s.trim().is_empty() => continue,
                        Value::String(s) => s.trim().to_string(),
                        other => return Err(format!("{p}: not an amount: {other}")),
                    };
                    let f = parse_amount(&text).map_err(|e| format!("{p}: {e}"))?;
                    *x = Value::String(f.to_string());
                } else {
                    normalise_amounts(x, &p)?;
                }
            }
            Ok(())
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                normalise_amounts(x, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// 999999 and friends; `1e2`-style JSON numbers are written out by serde as `100.0`.
fn parse_amount(text: &str) -> Result<Fen, String> {
    Fen::parse(text)
        .map_err(|e| format!("{text:?} is not an amount with at most two decimals ({e})"))
}
