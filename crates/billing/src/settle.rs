//! Settlement level: what 2206/2207 return (docs/domain.md §3.2), the fallback plan
//! and the cancellation (2208).

use money::{Fen, Ratio};
use serde::{Deserialize, Serialize};

use crate::line::{BillLine, LineSplit};

/// Which personal expenses the personal account may pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccountScope {
    /// Only the policy-range self-pay (deductible + 乙类先行自付 + co-pay share).
    #[default]
    InScope,
    /// Any personal expense, 丙类 and over-price-cap parts included.
    AllPersonal,
}

/// Which settlement field a further fund fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundField {
    CvlservPay,
    HifesPay,
    HifmiPay,
    HifobPay,
    MafPay,
    OthPay,
}

/// What part of the eligible amount a further fund pays a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FundBase {
    /// The eligible amount the basic fund did not pay because its cap was reached (大额/大病).
    OverBasicCap,
    /// The in-scope co-pay the person still bears after the funds before it (公务员补助, 救助).
    Copay,
}

/// A further fund (大额/大病/公务员/救助/企业补充/其他), applied in order after 统筹.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherFund {
    pub field: FundField,
    /// The national fund type code for `setldetail` (e.g. 330100).
    pub fund_pay_type: String,
    pub name: String,
    pub base: FundBase,
    pub ratio: Ratio,
    /// What the fund may still pay this year.
    pub cap_remaining: Fen,
}

/// The person's benefit parameters for this settlement (already reduced by what
/// this year's earlier settlements used).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// 起付线 still to be met this year.
    pub deductible_remaining: Fen,
    /// 统筹基金支付比例.
    pub ratio: Ratio,
    /// 统筹基金 annual cap still available.
    pub fund_cap_remaining: Fen,
    #[serde(default)]
    pub account_scope: AccountScope,
    /// 个人账户使用标志 (`acct_used_flag` 1).
    #[serde(default = "yes")]
    pub acct_used: bool,
    /// A per-payment limit on what the account (and family pool) may pay, if the region sets one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acct_pay_limit: Option<Fen>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_funds: Vec<OtherFund>,
    /// 统筹 fund type code for `setldetail` (310100 职工, 390100 居民).
    #[serde(default = "default_pool_type")]
    pub pool_fund_type: String,
}

fn yes() -> bool {
    true
}
fn default_pool_type() -> String {
    "310100".into()
}

/// The money the person can draw on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFunds {
    pub insutype: String,
    /// Personal-account balance before this settlement.
    pub balc: Fen,
    /// What a bound family member's account (家庭共济) may still pay for this person.
    #[serde(default)]
    pub family_pool: Fen,
}

/// Why the patient pays (part of) the bill in cash or by card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FallbackReason {
    /// 丙类 / 目录外 items: never paid by insurance.
    SelfPayItems { amount: Fen },
    /// Price above the catalogue price cap.
    OverPriceCap { amount: Fen },
    /// 乙类 先行自付 share.
    ClassBShare { amount: Fen },
    /// The part inside the annual deductible (起付线).
    Deductible { amount: Fen },
    /// The co-pay share above the deductible (共付段).
    Copay { amount: Fen },
    /// The fund's annual cap is reached.
    FundCapReached { amount: Fen },
    /// The account scope does not cover these personal expenses (自费/超限价).
    OutsideAccountScope { amount: Fen },
    /// The account (and family pool) balance is short.
    BalanceShort { amount: Fen, balance: Fen },
    /// A per-payment limit on the account applies.
    PaymentLimit { amount: Fen, limit: Fen },
    /// The patient chose not to use the personal account.
    AccountNotUsed { amount: Fen },
}

impl FallbackReason {
    pub fn amount(&self) -> Fen {
        match self {
            FallbackReason::SelfPayItems { amount }
            | FallbackReason::OverPriceCap { amount }
            | FallbackReason::ClassBShare { amount }
            | FallbackReason::Deductible { amount }
            | FallbackReason::Copay { amount }
            | FallbackReason::FundCapReached { amount }
            | FallbackReason::OutsideAccountScope { amount }
            | FallbackReason::BalanceShort { amount, .. }
            | FallbackReason::PaymentLimit { amount, .. }
            | FallbackReason::AccountNotUsed { amount } => *amount,
        }
    }

    /// One line for the cashier screen and the receipt.
    pub fn explain_zh(&self) -> String {
        match self {
            FallbackReason::SelfPayItems { amount } => {
                format!("丙类/自费项目 {amount} 元，医保不支付")
            }
            FallbackReason::OverPriceCap { amount } => {
                format!("超出医保限价部分 {amount} 元，由个人自费")
            }
            FallbackReason::ClassBShare { amount } => format!("乙类药品/项目先行自付 {amount} 元"),
            FallbackReason::Deductible { amount } => {
                format!("本年度起付线内 {amount} 元，由个人支付")
            }
            FallbackReason::Copay { amount } => format!("统筹支付比例外的个人共付 {amount} 元"),
            FallbackReason::FundCapReached { amount } => {
                format!("统筹基金已达年度最高支付限额，{amount} 元由个人支付")
            }
            FallbackReason::OutsideAccountScope { amount } => {
                format!("个人账户不支付自费/超限价部分，{amount} 元需现金或银行卡支付")
            }
            FallbackReason::BalanceShort { amount, balance } => {
                format!("个人账户余额不足（余额 {balance} 元），差额 {amount} 元需现金或银行卡支付")
            }
            FallbackReason::PaymentLimit { amount, limit } => {
                format!("个人账户单笔支付限额 {limit} 元，超出的 {amount} 元需现金或银行卡支付")
            }
            FallbackReason::AccountNotUsed { amount } => {
                format!("本次未使用个人账户，{amount} 元需现金或银行卡支付")
            }
        }
    }
}

impl FallbackReason {
    /// The same line in English, for a screen switched to English.
    pub fn explain_en(&self) -> String {
        match self {
            FallbackReason::SelfPayItems { amount } => {
                format!("Class C / self-pay items {amount}: not paid by insurance")
            }
            FallbackReason::OverPriceCap { amount } => {
                format!("Above the insurance price cap: {amount}, paid by the patient")
            }
            FallbackReason::ClassBShare { amount } => {
                format!("Class B items, the patient's first share: {amount}")
            }
            FallbackReason::Deductible { amount } => {
                format!("Within this year's deductible: {amount}, paid by the patient")
            }
            FallbackReason::Copay { amount } => {
                format!("The patient's co-pay beyond the fund's ratio: {amount}")
            }
            FallbackReason::FundCapReached { amount } => {
                format!("The fund's annual cap is reached: {amount} paid by the patient")
            }
            FallbackReason::OutsideAccountScope { amount } => format!(
                "The personal account does not pay self-pay or over-cap parts: {amount} in cash or by card"
            ),
            FallbackReason::BalanceShort { amount, balance } => format!(
                "Personal account balance short (balance {balance}): {amount} in cash or by card"
            ),
            FallbackReason::PaymentLimit { amount, limit } => format!(
                "Personal account limit per payment {limit}: the {amount} above it in cash or by card"
            ),
            FallbackReason::AccountNotUsed { amount } => {
                format!("Personal account not used this time: {amount} in cash or by card")
            }
        }
    }
}

/// One `setldetail` row (基金分项).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundDetail {
    pub fund_pay_type: String,
    pub fund_pay_type_name: String,
    pub inscp_scp_amt: Fen,
    pub fund_payamt: Fen,
}

/// The settlement: the 2206/2207 money fields with their NHSA names, the
/// per-line split, and the fallback plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub medfee_sumamt: Fen,
    pub fulamt_ownpay_amt: Fen,
    pub overlmt_selfpay: Fen,
    pub preselfpay_amt: Fen,
    pub inscp_scp_amt: Fen,
    pub act_pay_dedc: Fen,
    pub hifp_pay: Fen,
    pub pool_prop_selfpay: Ratio,
    pub cvlserv_pay: Fen,
    pub hifes_pay: Fen,
    pub hifmi_pay: Fen,
    pub hifob_pay: Fen,
    pub maf_pay: Fen,
    pub oth_pay: Fen,
    pub fund_pay_sumamt: Fen,
    pub psn_part_amt: Fen,
    pub acct_pay: Fen,
    pub acct_mulaid_pay: Fen,
    pub psn_cash_pay: Fen,
    pub hosp_part_amt: Fen,
    /// Personal-account balance after this settlement.
    pub balc: Fen,
    pub lines: Vec<LineSplit>,
    pub setldetail: Vec<FundDetail>,
    /// Why the patient pays `psn_part_amt` (what it is made of) and why the
    /// account did not cover `psn_cash_pay` (the fallback to cash or card).
    pub fallback: Vec<FallbackReason>,
}

/// Split a bill (lines already validated).
pub fn split(lines: &[BillLine], person: &PersonFunds, policy: &Policy) -> Settlement {
    let splits: Vec<LineSplit> = lines.iter().map(BillLine::split).collect();
    settle_splits(splits, person, policy)
}

/// Settle lines whose 2204 split is already known (e.g. the center's 2204 answer).
pub fn settle_splits(splits: Vec<LineSplit>, person: &PersonFunds, policy: &Policy) -> Settlement {
    let sum = |f: fn(&LineSplit) -> Fen| splits.iter().map(f).sum::<Fen>();
    let medfee = sum(|l| l.det_item_fee_sumamt);
    let fulamt = sum(|l| l.fulamt_ownpay_amt);
    let overlmt = sum(|l| l.overlmt_amt);
    let preselfpay = sum(|l| l.preselfpay_amt);
    let inscp = sum(|l| l.inscp_scp_amt);

    let mut reasons = Vec::new();
    let dedc = inscp.min(policy.deductible_remaining.clamp_zero());
    let eligible = inscp - dedc;
    let hifp_uncapped = eligible.mul_ratio(policy.ratio);
    let hifp = hifp_uncapped.min(policy.fund_cap_remaining.clamp_zero());
    let over_cap = hifp_uncapped - hifp;

    // Further funds, in order.
    let mut over_cap_left = over_cap;
    let mut copay_left = eligible - hifp - over_cap; // co-pay share above the deductible
    let mut other = [Fen::ZERO; 6];
    let mut details = Vec::new();
    if hifp > Fen::ZERO || inscp > Fen::ZERO {
        details.push(FundDetail {
            fund_pay_type: policy.pool_fund_type.clone(),
            fund_pay_type_name: pool_name(&policy.pool_fund_type).into(),
            inscp_scp_amt: inscp,
            fund_payamt: hifp,
        });
    }
    for f in &policy.other_funds {
        let base = match f.base {
            FundBase::OverBasicCap => &mut over_cap_left,
            FundBase::Copay => &mut copay_left,
        };
        let pay = base
            .mul_ratio(f.ratio)
            .min(f.cap_remaining.clamp_zero())
            .min(*base);
        *base -= pay;
        let idx = f.field as usize;
        other[idx] += pay;
        if pay > Fen::ZERO {
            details.push(FundDetail {
                fund_pay_type: f.fund_pay_type.clone(),
                fund_pay_type_name: f.name.clone(),
                inscp_scp_amt: inscp,
                fund_payamt: pay,
            });
        }
    }
    let others: Fen = other.iter().sum();
    let fund = hifp + others;
    let hosp_part = Fen::ZERO;
    let psn_part = medfee - fund - hosp_part;

    // What the person bears, by origin.
    push_if(&mut reasons, fulamt, |amount| {
        FallbackReason::SelfPayItems { amount }
    });
    push_if(&mut reasons, overlmt, |amount| {
        FallbackReason::OverPriceCap { amount }
    });
    push_if(&mut reasons, preselfpay, |amount| {
        FallbackReason::ClassBShare { amount }
    });
    push_if(&mut reasons, dedc, |amount| FallbackReason::Deductible {
        amount,
    });
    push_if(&mut reasons, copay_left, |amount| FallbackReason::Copay {
        amount,
    });
    push_if(&mut reasons, over_cap_left, |amount| {
        FallbackReason::FundCapReached { amount }
    });

    // The personal account, then the family pool.
    let in_scope_personal = psn_part - fulamt - overlmt;
    let payable = match policy.account_scope {
        AccountScope::InScope => in_scope_personal,
        AccountScope::AllPersonal => psn_part,
    };
    let (mut acct, mut mulaid) = (Fen::ZERO, Fen::ZERO);
    if policy.acct_used {
        if policy.account_scope == AccountScope::InScope {
            push_if(&mut reasons, fulamt + overlmt, |amount| {
                FallbackReason::OutsideAccountScope { amount }
            });
        }
        let limited = match policy.acct_pay_limit {
            Some(limit) if payable > limit.clamp_zero() => {
                push_if(&mut reasons, payable - limit.clamp_zero(), |amount| {
                    FallbackReason::PaymentLimit { amount, limit }
                });
                limit.clamp_zero()
            }
            _ => payable,
        };
        acct = person.balc.clamp_zero().min(limited);
        mulaid = person.family_pool.clamp_zero().min(limited - acct);
        let short = limited - acct - mulaid;
        push_if(&mut reasons, short, |amount| FallbackReason::BalanceShort {
            amount,
            balance: person.balc.clamp_zero() + person.family_pool.clamp_zero(),
        });
    } else {
        push_if(&mut reasons, psn_part, |amount| {
            FallbackReason::AccountNotUsed { amount }
        });
    }
    if acct > Fen::ZERO {
        let (code, name) = account_fund(&person.insutype);
        details.push(FundDetail {
            fund_pay_type: code.into(),
            fund_pay_type_name: name.into(),
            inscp_scp_amt: inscp,
            fund_payamt: acct,
        });
    }
    let cash = psn_part - acct - mulaid;
    Settlement {
        medfee_sumamt: medfee,
        fulamt_ownpay_amt: fulamt,
        overlmt_selfpay: overlmt,
        preselfpay_amt: preselfpay,
        inscp_scp_amt: inscp,
        act_pay_dedc: dedc,
        hifp_pay: hifp,
        pool_prop_selfpay: if hifp > Fen::ZERO {
            policy.ratio
        } else {
            Ratio::ZERO
        },
        cvlserv_pay: other[FundField::CvlservPay as usize],
        hifes_pay: other[FundField::HifesPay as usize],
        hifmi_pay: other[FundField::HifmiPay as usize],
        hifob_pay: other[FundField::HifobPay as usize],
        maf_pay: other[FundField::MafPay as usize],
        oth_pay: other[FundField::OthPay as usize],
        fund_pay_sumamt: fund,
        psn_part_amt: psn_part,
        acct_pay: acct,
        acct_mulaid_pay: mulaid,
        psn_cash_pay: cash,
        hosp_part_amt: hosp_part,
        balc: person.balc - acct,
        lines: splits,
        setldetail: details,
        fallback: reasons,
    }
}

fn push_if(v: &mut Vec<FallbackReason>, amount: Fen, f: impl FnOnce(Fen) -> FallbackReason) {
    if amount > Fen::ZERO {
        v.push(f(amount));
    }
}

fn pool_name(code: &str) -> &'static str {
    match code {
        "390100" => "城乡居民基本医疗保险基金",
        _ => "职工基本医疗保险统筹基金",
    }
}

fn account_fund(insutype: &str) -> (&'static str, &'static str) {
    match insutype {
        "390" | "391" => ("390200", "城乡居民个人账户"),
        _ => ("310200", "城镇职工基本医疗保险个人账户基金"),
    }
}

impl Settlement {
    /// The cancellation (2208): every amount negated exactly; `balc` is the
    /// balance after the account money is returned, given the balance now.
    pub fn cancellation(&self, balc_now: Fen) -> Settlement {
        Settlement {
            medfee_sumamt: -self.medfee_sumamt,
            fulamt_ownpay_amt: -self.fulamt_ownpay_amt,
            overlmt_selfpay: -self.overlmt_selfpay,
            preselfpay_amt: -self.preselfpay_amt,
            inscp_scp_amt: -self.inscp_scp_amt,
            act_pay_dedc: -self.act_pay_dedc,
            hifp_pay: -self.hifp_pay,
            pool_prop_selfpay: self.pool_prop_selfpay,
            cvlserv_pay: -self.cvlserv_pay,
            hifes_pay: -self.hifes_pay,
            hifmi_pay: -self.hifmi_pay,
            hifob_pay: -self.hifob_pay,
            maf_pay: -self.maf_pay,
            oth_pay: -self.oth_pay,
            fund_pay_sumamt: -self.fund_pay_sumamt,
            psn_part_amt: -self.psn_part_amt,
            acct_pay: -self.acct_pay,
            acct_mulaid_pay: -self.acct_mulaid_pay,
            psn_cash_pay: -self.psn_cash_pay,
            hosp_part_amt: -self.hosp_part_amt,
            balc: balc_now + self.acct_pay,
            lines: self.lines.iter().map(LineSplit::negate).collect(),
            setldetail: self
                .setldetail
                .iter()
                .map(|d| FundDetail {
                    fund_payamt: -d.fund_payamt,
                    inscp_scp_amt: -d.inscp_scp_amt,
                    ..d.clone()
                })
                .collect(),
            fallback: Vec::new(),
        }
    }

    /// The identities of docs/domain.md §1.5 / §6.B; returns the first that fails.
    pub fn check_identities(&self) -> Result<(), String> {
        let parts = self.fulamt_ownpay_amt
            + self.overlmt_selfpay
            + self.preselfpay_amt
            + self.inscp_scp_amt;
        if self.medfee_sumamt != parts {
            return Err(format!(
                "medfee_sumamt {} ≠ fulamt_ownpay_amt + overlmt_selfpay + preselfpay_amt + inscp_scp_amt = {}",
                self.medfee_sumamt, parts
            ));
        }
        let funds = self.hifp_pay
            + self.cvlserv_pay
            + self.hifes_pay
            + self.hifmi_pay
            + self.hifob_pay
            + self.maf_pay
            + self.oth_pay;
        if funds != self.fund_pay_sumamt {
            return Err(format!(
                "fund_pay_sumamt {} ≠ Σ funds {}",
                self.fund_pay_sumamt, funds
            ));
        }
        let whole = self.fund_pay_sumamt + self.psn_part_amt + self.hosp_part_amt;
        if self.medfee_sumamt != whole {
            return Err(format!(
                "medfee_sumamt {} ≠ fund_pay_sumamt + psn_part_amt + hosp_part_amt = {}",
                self.medfee_sumamt, whole
            ));
        }
        let person = self.acct_pay + self.acct_mulaid_pay + self.psn_cash_pay;
        if self.psn_part_amt != person {
            return Err(format!(
                "psn_part_amt {} ≠ acct_pay + acct_mulaid_pay + psn_cash_pay = {}",
                self.psn_part_amt, person
            ));
        }
        for (i, l) in self.lines.iter().enumerate() {
            if !l.identity_holds() {
                return Err(format!(
                    "lines[{i}]: det_item_fee_sumamt ≠ the sum of its four parts"
                ));
            }
        }
        Ok(())
    }
}
