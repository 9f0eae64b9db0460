//! Line level: what 2204 returns for each fee line (docs/domain.md §3.1).

use money::{Fen, Price, Qty, Ratio};
use serde::{Deserialize, Serialize};

/// 收费项目等级 `chrgitm_lv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChargeClass {
    /// 01 甲类: fully in the policy range.
    #[serde(rename = "01")]
    A,
    /// 02 乙类: a province-set share is paid first by the patient (先行自付).
    #[serde(rename = "02")]
    B,
    /// 03 丙类 / 自费: not payable by insurance.
    #[serde(rename = "03")]
    C,
}

impl ChargeClass {
    pub fn code(self) -> &'static str {
        match self {
            ChargeClass::A => "01",
            ChargeClass::B => "02",
            ChargeClass::C => "03",
        }
    }
    pub fn parse(s: &str) -> Option<ChargeClass> {
        match s.trim() {
            "01" | "1" => Some(ChargeClass::A),
            "02" | "2" => Some(ChargeClass::B),
            "03" | "3" => Some(ChargeClass::C),
            _ => None,
        }
    }
    pub fn label_zh(self) -> &'static str {
        match self {
            ChargeClass::A => "甲类",
            ChargeClass::B => "乙类",
            ChargeClass::C => "丙类",
        }
    }
}

/// One fee line of a bill, as entered at the counter (or imported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillLine {
    pub name: String,
    /// 医疗收费项目类别 (01 床位费 … 09 西药费 … 14 其他费).
    pub med_chrgitm_type: String,
    pub chrgitm_lv: ChargeClass,
    pub cnt: Qty,
    pub pric: Price,
    /// 定价上限金额 (none, or 999999, means no cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pric_uplmt_amt: Option<Price>,
    /// 自付比例 for 乙类 (ignored for 甲类 = 0 and 丙类 = 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selfpay_prop: Option<Ratio>,
    /// 医疗目录编码 (national catalogue code), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub med_list_codg: Option<String>,
    /// Where the line comes from: the hospital's own item code and the doctor's order
    /// (2204 sends them; the split does not use them).
    #[serde(default, skip_serializing_if = "LineOrder::is_empty")]
    pub order: LineOrder,
}

/// The hospital side of a bill line, in the interface's names (2204 `feedetail`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LineOrder {
    /// 医药机构目录编码: the hospital's own code of the item (never the national code).
    pub medins_list_codg: String,
    /// 处方号 of the order.
    pub rxno: String,
    /// 开单科室 (医保科室编码, name) and 开单医生 (医保医师编码, name).
    pub bilg_dept_codg: String,
    pub bilg_dept_name: String,
    pub bilg_dr_codg: String,
    pub bilg_dr_name: String,
    /// 医院审批标志 (dictionary hosp_appr_flag: 0 无需审批, 1 审批通过, 2 审批不通过).
    pub hosp_appr_flag: String,
}

impl LineOrder {
    pub fn is_empty(&self) -> bool {
        *self == LineOrder::default()
    }
}

/// The four-way split of one line. Identity:
/// `det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSplit {
    pub det_item_fee_sumamt: Fen,
    pub fulamt_ownpay_amt: Fen,
    pub overlmt_amt: Fen,
    pub preselfpay_amt: Fen,
    pub inscp_scp_amt: Fen,
    pub selfpay_prop: Ratio,
}

impl LineSplit {
    pub fn negate(&self) -> LineSplit {
        LineSplit {
            det_item_fee_sumamt: -self.det_item_fee_sumamt,
            fulamt_ownpay_amt: -self.fulamt_ownpay_amt,
            overlmt_amt: -self.overlmt_amt,
            preselfpay_amt: -self.preselfpay_amt,
            inscp_scp_amt: -self.inscp_scp_amt,
            selfpay_prop: self.selfpay_prop,
        }
    }
    pub fn identity_holds(&self) -> bool {
        self.det_item_fee_sumamt
            == self.fulamt_ownpay_amt + self.overlmt_amt + self.preselfpay_amt + self.inscp_scp_amt
    }
}

impl BillLine {
    /// `round2(cnt × pric)`.
    pub fn amount(&self) -> Fen {
        self.pric.times(self.cnt)
    }

    /// The effective self-pay ratio of the line's class.
    pub fn effective_selfpay_prop(&self) -> Ratio {
        match self.chrgitm_lv {
            ChargeClass::A => Ratio::ZERO,
            ChargeClass::B => self.selfpay_prop.unwrap_or(Ratio::ZERO),
            ChargeClass::C => Ratio::ONE,
        }
    }

    /// Split the line (§3.1): 丙类 → all 全自费; price above the cap → 超限价;
    /// 乙类 → `round2(base × selfpay_prop)` 先行自付; the rest is 符合政策范围.
    pub fn split(&self) -> LineSplit {
        let amount = self.amount();
        let prop = self.effective_selfpay_prop();
        if self.chrgitm_lv == ChargeClass::C {
            return LineSplit {
                det_item_fee_sumamt: amount,
                fulamt_ownpay_amt: amount,
                overlmt_amt: Fen::ZERO,
                preselfpay_amt: Fen::ZERO,
                inscp_scp_amt: Fen::ZERO,
                selfpay_prop: prop,
            };
        }
        let overlmt = match self.pric_uplmt_amt {
            Some(cap) if self.pric.0 > cap.0 => {
                Price(self.pric.0 - cap.0).times(self.cnt).min(amount)
            }
            _ => Fen::ZERO,
        };
        let base = amount - overlmt;
        let preselfpay = base.mul_ratio(prop);
        LineSplit {
            det_item_fee_sumamt: amount,
            fulamt_ownpay_amt: Fen::ZERO,
            overlmt_amt: overlmt,
            preselfpay_amt: preselfpay,
            inscp_scp_amt: base - preselfpay,
            selfpay_prop: prop,
        }
    }
}
