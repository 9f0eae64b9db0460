//! The online steps of a checkout, one module a step.

mod bill;
mod pay;
mod presettle;
mod refund;
mod resolve;
mod settle;
mod show;

use ledger::{CheckoutRecord, NewPayment, PaymentChannel, SettlementKind, SettlementRecord};
use money::Fen;
use serde_json::Value;

use crate::machine::{transition, Event};
use crate::{CheckoutError, Result};

pub use resolve::Registration;
pub(crate) use resolve::{not_registered, person_view, registrations};

/// How the rest is paid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Pay {
    /// Cash: `given` is what the patient handed over.
    Cash { given: Fen },
    /// Bank card: the terminal's reference (参考号).
    Card { reference: String },
}

impl Pay {
    /// The payment that collects `due`: cash no less than due (the change noted), or a
    /// card with the terminal's reference.
    pub(crate) fn payment(
        self,
        checkout_id: &str,
        setl_id: Option<String>,
        due: Fen,
        note: Option<&str>,
    ) -> Result<NewPayment> {
        let (channel, given, change, reference) = match self {
            Pay::Cash { given } => {
                if given < due {
                    return Err(CheckoutError::input(format!(
                        "实收 {given} 元少于应收 {due} 元"
                    )));
                }
                (PaymentChannel::Cash, Some(given), Some(given - due), None)
            }
            Pay::Card { reference } => {
                let reference = reference.trim().to_string();
                if reference.is_empty() {
                    return Err(CheckoutError::input("请输入刷卡终端的参考号"));
                }
                (PaymentChannel::Card, None, None, Some(reference))
            }
        };
        Ok(NewPayment {
            checkout_id: checkout_id.into(),
            setl_id,
            channel,
            amount: due,
            given,
            change,
            reference,
            note: note.map(str::to_owned),
        })
    }
}

/// The ledger's record of a 2207/2208 answer.
pub(crate) fn settlement_record(
    rec: &CheckoutRecord,
    msgid: &str,
    kind: SettlementKind,
    setl_id: &str,
    orig: Option<&str>,
    s: &nhsa::types::Setlinfo,
    output: &Value,
) -> SettlementRecord {
    let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
    SettlementRecord {
        setl_id: setl_id.into(),
        checkout_id: rec.id.clone(),
        msgid: msgid.into(),
        kind,
        orig_setl_id: orig.map(str::to_owned),
        psn_no: s.psn_no.clone().or(rec.psn_no.clone()).unwrap_or_default(),
        mdtrt_id: s
            .mdtrt_id
            .clone()
            .or(rec.mdtrt_id.clone())
            .unwrap_or_default(),
        insutype: s.insutype.clone(),
        clr_type: s.clr_type.clone(),
        clr_optins: s.clr_optins.clone(),
        clr_way: s.clr_way.clone(),
        medfee_sumamt: z(s.medfee_sumamt),
        fund_pay_sumamt: z(s.fund_pay_sumamt),
        acct_pay: z(s.acct_pay),
        acct_mulaid_pay: z(s.acct_mulaid_pay),
        psn_cash_pay: z(s.psn_cash_pay),
        hosp_part_amt: z(s.hosp_part_amt),
        balc: s.balc,
        setl_time: s.setl_time.clone(),
        cancelled_by: None,
        response: output.clone(),
    }
}

/// The fund, account, 共济 and hospital parts of a settlement as payments.
pub(crate) fn fund_payments(
    checkout_id: &str,
    r: &SettlementRecord,
    note: Option<&str>,
) -> Vec<NewPayment> {
    [
        (PaymentChannel::Fund, r.fund_pay_sumamt),
        (PaymentChannel::Account, r.acct_pay),
        (PaymentChannel::MutualAid, r.acct_mulaid_pay),
        (PaymentChannel::Hospital, r.hosp_part_amt),
    ]
    .into_iter()
    .filter(|(_, amt)| *amt != Fen::ZERO)
    .map(|(channel, amount)| NewPayment {
        checkout_id: checkout_id.into(),
        setl_id: Some(r.setl_id.clone()),
        channel,
        amount,
        given: None,
        change: None,
        reference: None,
        note: note.map(str::to_owned),
    })
    .collect()
}

/// Refuse an event the checkout's state does not allow, before anything is sent.
pub(crate) fn check(rec: &CheckoutRecord, ev: Event) -> Result<()> {
    transition(rec.state, ev)
        .map(|_| ())
        .map_err(|r| CheckoutError::state(r.message_zh()))
}

/// Move the checkout on by an event (the caller saves it).
pub(crate) fn advance(rec: &mut CheckoutRecord, ev: Event) -> Result<()> {
    rec.state = transition(rec.state, ev).map_err(|r| CheckoutError::state(r.message_zh()))?;
    Ok(())
}
