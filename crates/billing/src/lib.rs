//! The split: a bill's lines and the person's benefit parameters in, the
//! 2204/2206/2207 figures out (docs/domain.md §1.5, §3). Money is integer fen
//! ([`money::Fen`]); ratios are exact decimals; rounding is half-up to the fen
//! per line (先行自付, 超限价) and per settlement (统筹).
//!
//! The simulated center answers with this engine; the counter uses it for
//! offline estimates and to check every answer the center gives.

mod catalog;
mod input;
mod line;
mod policy;
mod settle;

pub use catalog::{Catalog, CatalogItem};
pub use input::{check_bill, parse_line, strip_bom, BillInput, InputError, MAX_BILL, MAX_LINES};
pub use line::{BillLine, ChargeClass, LineOrder, LineSplit};
pub use policy::{PolicyBook, PolicyError, RegionKind, Rule, Situation, YearUsage};
pub use settle::{
    settle_splits, split, AccountScope, FallbackReason, FundBase, FundDetail, FundField, OtherFund,
    PersonFunds, Policy, Settlement,
};

/// 医疗收费项目类别 names (§1.6), for receipts and screens.
pub fn fee_category_name(med_chrgitm_type: &str) -> &'static str {
    match med_chrgitm_type {
        "01" => "床位费",
        "02" => "诊察费",
        "03" => "检查费",
        "04" => "化验费",
        "05" => "治疗费",
        "06" => "手术费",
        "07" => "护理费",
        "08" => "卫生材料费",
        "09" => "西药费",
        "10" => "中药饮片费",
        "11" => "中成药费",
        "12" => "一般诊疗费",
        "13" => "挂号费",
        _ => "其他费",
    }
}

impl BillInput {
    /// Split this bill.
    pub fn split(&self) -> Settlement {
        split(&self.lines, &self.person, &self.policy)
    }
}
