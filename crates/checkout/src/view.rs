//! What the screen and the CLI show of a checkout.

use billing::{BillLine, FallbackReason};
use ledger::{CheckoutMode, CheckoutRecord, CheckoutState, PaymentRecord};

use crate::machine::Stage;
use money::Fen;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonView {
    pub psn_no: String,
    pub name: String,
    /// Masked: first 6 and last 4.
    pub certno_masked: String,
    pub gend: String,
    pub age: String,
    pub insutype: String,
    pub insutype_name: String,
    pub balc: Fen,
    pub insuplc_admdvs: String,
    pub region: String,
    pub psn_insu_stas: String,
    pub emp_name: String,
    /// Warnings for the cashier (suspended, cross-province, …).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineView {
    pub name: String,
    pub code: Option<String>,
    pub med_chrgitm_type: String,
    pub class: String,
    pub cnt: String,
    pub pric: String,
    pub amount: Fen,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonView {
    pub kind: String,
    pub amount: Fen,
    pub text: String,
    #[serde(default)]
    pub text_en: String,
}

/// The split as the center answered it (2206 or 2207).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitView {
    pub medfee_sumamt: Fen,
    pub fulamt_ownpay_amt: Fen,
    pub overlmt_selfpay: Fen,
    pub preselfpay_amt: Fen,
    pub inscp_scp_amt: Fen,
    pub act_pay_dedc: Fen,
    pub hifp_pay: Fen,
    pub other_fund_pay: Fen,
    pub fund_pay_sumamt: Fen,
    pub psn_part_amt: Fen,
    pub acct_pay: Fen,
    pub acct_mulaid_pay: Fen,
    pub psn_cash_pay: Fen,
    pub hosp_part_amt: Fen,
    pub balc: Fen,
    pub setl_id: Option<String>,
    pub estimate: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutView {
    pub id: String,
    /// The checkout's state as the ledger holds it.
    pub state: CheckoutState,
    /// The step the window shows (derived from `state`).
    pub stage: Stage,
    pub mode: CheckoutMode,
    pub operator_id: String,
    pub person: Option<PersonView>,
    pub lines: Vec<LineView>,
    pub total: Fen,
    pub acct_used: bool,
    pub split: Option<SplitView>,
    pub reasons: Vec<ReasonView>,
    /// What the cashier must still collect (cash or card).
    pub due: Fen,
    pub paid: Fen,
    pub change: Fen,
    pub payments: Vec<PaymentRecord>,
    pub setl_id: Option<String>,
    pub refund_setl_id: Option<String>,
    pub outbox_id: Option<String>,
    pub created_at: String,
    /// Where the center's figures do not add up, differ from the pre-settlement, or
    /// differ from the local catalogue: shown to the cashier, never silently kept.
    pub discrepancies: Vec<String>,
    /// 医疗类别: 11 普通门诊, 14 门诊慢特病.
    pub med_type: String,
    /// The visit 2201/2203 send (the HIS's, or built in clinic mode), when set.
    pub visit: Option<nhsa::visit::Visit>,
    /// The person's 门诊慢特病 registrations (5301), for the 慢特病 choice.
    pub registrations: Vec<crate::flow::Registration>,
    /// The HIS bill this checkout settles, if it came from the HIS.
    pub his_bill_id: Option<String>,
    /// 事前事中 rule hits (3101) of the last pre-settlement.
    pub rule_hits: Vec<crate::rules::RuleHit>,
    /// A supervisor let the blocking hits go, with a reason.
    pub rules_overridden: bool,
}

pub(crate) fn lines_of(rec: &CheckoutRecord) -> Vec<BillLine> {
    crate::ctx_of(rec, "lines").unwrap_or_default()
}

pub(crate) fn split_from(info: &Value, estimate: bool) -> Option<SplitView> {
    let s: nhsa::types::Setlinfo = serde_json::from_value(info.clone()).ok()?;
    let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
    let other = s.other_fund_pay();
    Some(SplitView {
        medfee_sumamt: z(s.medfee_sumamt),
        fulamt_ownpay_amt: z(s.fulamt_ownpay_amt),
        overlmt_selfpay: z(s.overlmt_selfpay),
        preselfpay_amt: z(s.preselfpay_amt),
        inscp_scp_amt: z(s.inscp_scp_amt),
        act_pay_dedc: z(s.act_pay_dedc),
        hifp_pay: z(s.hifp_pay),
        other_fund_pay: other,
        fund_pay_sumamt: z(s.fund_pay_sumamt),
        psn_part_amt: z(s.psn_part_amt),
        acct_pay: z(s.acct_pay),
        acct_mulaid_pay: z(s.acct_mulaid_pay),
        psn_cash_pay: z(s.psn_cash_pay),
        hosp_part_amt: z(s.hosp_part_amt),
        balc: z(s.balc),
        setl_id: s.setl_id,
        estimate,
    })
}

/// Explain the center's figures: what the person bears and why the account did not cover it.
pub(crate) fn reasons(split: &SplitView, balc_before: Fen, acct_used: bool) -> Vec<ReasonView> {
    let mut v = Vec::new();
    let copay = (split.inscp_scp_amt - split.act_pay_dedc - split.fund_pay_sumamt).clamp_zero();
    let mut push = |r: FallbackReason| {
        if r.amount() > Fen::ZERO {
            let kind = serde_json::to_value(&r)
                .ok()
                .and_then(|x| x["kind"].as_str().map(str::to_owned))
                .unwrap_or_default();
            v.push(ReasonView {
                kind,
                amount: r.amount(),
                text: r.explain_zh(),
                text_en: r.explain_en(),
            });
        }
    };
    push(FallbackReason::SelfPayItems {
        amount: split.fulamt_ownpay_amt,
    });
    push(FallbackReason::OverPriceCap {
        amount: split.overlmt_selfpay,
    });
    push(FallbackReason::ClassBShare {
        amount: split.preselfpay_amt,
    });
    push(FallbackReason::Deductible {
        amount: split.act_pay_dedc,
    });
    push(FallbackReason::Copay { amount: copay });
    let cash = split.psn_cash_pay;
    if cash > Fen::ZERO {
        if !acct_used {
            push(FallbackReason::AccountNotUsed { amount: cash });
        } else if split.acct_pay >= balc_before.clamp_zero() {
            push(FallbackReason::BalanceShort {
                amount: cash,
                balance: balc_before,
            });
        } else {
            push(FallbackReason::OutsideAccountScope { amount: cash });
        }
    }
    v
}

pub(crate) fn line_views(lines: &[BillLine]) -> Vec<LineView> {
    lines
        .iter()
        .map(|l| LineView {
            name: l.name.clone(),
            code: l.med_list_codg.clone(),
            med_chrgitm_type: l.med_chrgitm_type.clone(),
            class: l.chrgitm_lv.label_zh().into(),
            cnt: l.cnt.to_string(),
            pric: l.pric.to_string(),
            amount: l.amount(),
        })
        .collect()
}

pub fn insutype_name(code: &str) -> &'static str {
    nhsa::dict::insutype_label(code).0
}
