//! Benefit policy as data (docs/domain.md §3.5): deductibles, ratios by hospital
//! level and person type, annual caps, account scope, 慢特病 and cross-region
//! variants. Loaded from a JSON file (assets/policy/demo-policy.json for the
//! demo region); nothing here is a city's real policy.

use money::{Fen, Ratio};
use serde::{Deserialize, Serialize};

use crate::settle::{AccountScope, OtherFund, Policy};

/// One benefit rule. The first rule whose filters all match is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    /// 险种 codes this rule covers (e.g. ["310"]).
    pub insutypes: Vec<String>,
    /// 医疗类别 codes; empty = any.
    #[serde(default)]
    pub med_types: Vec<String>,
    /// Retired persons only (`Some(true)`), in-service only (`Some(false)`), or any.
    #[serde(default)]
    pub retired: Option<bool>,
    /// Where the person is insured relative to the hospital; empty = any.
    #[serde(default)]
    pub regions: Vec<RegionKind>,
    /// Annual deductible (起付线).
    pub deductible: Fen,
    /// 统筹 ratio by hospital level: index 0 = 一级/社区, 1 = 二级, 2 = 三级.
    pub ratio_by_level: [Ratio; 3],
    /// Annual 统筹 cap (最高支付限额).
    pub annual_cap: Fen,
    #[serde(default)]
    pub account_scope: AccountScope,
    #[serde(default)]
    pub acct_pay_limit: Option<Fen>,
    #[serde(default)]
    pub other_funds: Vec<OtherFund>,
}

/// 本地 / 省内异地 / 跨省 (by the first digits of `insuplc_admdvs`, §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionKind {
    Local,
    InProvince,
    CrossProvince,
}

impl RegionKind {
    /// Classify the person's insured area against the hospital's area.
    pub fn classify(insuplc_admdvs: &str, hospital_admdvs: &str) -> RegionKind {
        let p = |s: &str, n: usize| s.get(..n).map(str::to_owned);
        if p(insuplc_admdvs, 2) != p(hospital_admdvs, 2) {
            RegionKind::CrossProvince
        } else if p(insuplc_admdvs, 4) != p(hospital_admdvs, 4) {
            RegionKind::InProvince
        } else {
            RegionKind::Local
        }
    }
}

/// The policy book of one region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyBook {
    pub region: String,
    pub rules: Vec<Rule>,
}

/// What the person already used this year (kept by the center).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct YearUsage {
    pub deductible_used: Fen,
    pub fund_used: Fen,
}

/// The facts a rule is chosen by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Situation<'a> {
    pub insutype: &'a str,
    pub med_type: &'a str,
    pub retired: bool,
    pub region: RegionKind,
    /// 1, 2 or 3.
    pub hosp_lv: u8,
    pub acct_used: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file: {0}")]
    Parse(String),
    #[error("no benefit rule covers 险种 {insutype} / 医疗类别 {med_type}")]
    NoRule { insutype: String, med_type: String },
}

impl PolicyBook {
    pub fn from_json(text: &str) -> Result<PolicyBook, PolicyError> {
        let b: PolicyBook =
            serde_json::from_str(text).map_err(|e| PolicyError::Parse(e.to_string()))?;
        for r in &b.rules {
            if r.ratio_by_level.iter().any(|x| !x.is_within_unit()) {
                return Err(PolicyError::Parse(format!(
                    "rule {:?}: ratio outside 0..1",
                    r.name
                )));
            }
        }
        Ok(b)
    }

    /// The demo region's book, shipped in assets/policy/demo-policy.json.
    pub fn demo() -> PolicyBook {
        PolicyBook::from_json(include_str!("../../../assets/policy/demo-policy.json"))
            .expect("the shipped demo policy parses")
    }

    pub fn rule_for(&self, s: &Situation<'_>) -> Result<&Rule, PolicyError> {
        self.rules
            .iter()
            .find(|r| {
                r.insutypes.iter().any(|t| t == s.insutype)
                    && (r.med_types.is_empty() || r.med_types.iter().any(|m| m == s.med_type))
                    && r.retired.is_none_or(|x| x == s.retired)
                    && (r.regions.is_empty() || r.regions.contains(&s.region))
            })
            .ok_or_else(|| PolicyError::NoRule {
                insutype: s.insutype.into(),
                med_type: s.med_type.into(),
            })
    }

    /// The settlement parameters for this situation, reduced by this year's usage.
    pub fn policy_for(&self, s: &Situation<'_>, used: YearUsage) -> Result<Policy, PolicyError> {
        let r = self.rule_for(s)?;
        let lv = usize::from(s.hosp_lv.clamp(1, 3) - 1);
        Ok(Policy {
            deductible_remaining: (r.deductible - used.deductible_used).clamp_zero(),
            ratio: r.ratio_by_level[lv],
            fund_cap_remaining: (r.annual_cap - used.fund_used).clamp_zero(),
            account_scope: r.account_scope,
            acct_used: s.acct_used,
            acct_pay_limit: r.acct_pay_limit,
            other_funds: r.other_funds.clone(),
            pool_fund_type: if s.insutype.starts_with("39") {
                "390100"
            } else {
                "310100"
            }
            .into(),
        })
    }
}
