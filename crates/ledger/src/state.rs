//! The states and modes a checkout can hold in the ledger. Defined here, beside the
//! record that stores them, and re-exported by the checkout crate, whose
//! `machine` module owns the transitions between them. The text forms are the
//! column values ledgers have always held, so old ledgers load unchanged.
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Every state a checkout can be in (docs/domain.md §0, §5.4, §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts-rs", derive(ts_rs::TS), ts(export))]
pub enum CheckoutState {
    /// Opened, nobody resolved yet.
    New,
    /// The person is known (1101), no bill lines yet.
    Resolved,
    /// Person and bill lines, not yet pre-settled.
    Billed,
    /// 2206 answered: the split is known.
    Presettled,
    /// 2207 sent (or about to be): its outcome is not known yet.
    Settling,
    /// Settled at the center; the patient's cash part is still to collect.
    Settled,
    /// Settled at the center, but the answer does not add up or differs from the
    /// pre-settlement or the catalogue: nothing is collected until a supervisor
    /// accepts it (with a reason) or it is refunded.
    Held,
    /// Settled and paid (or nothing was due).
    Done,
    /// 2208 sent: its outcome is not known yet.
    Refunding,
    /// Cancelled at the center and paid back.
    Refunded,
    /// Abandoned before anything was settled.
    Void,
    /// Collected offline; the settlement waits in the queue.
    OfflineQueued,
}

impl CheckoutState {
    pub const ALL: [CheckoutState; 12] = [
        CheckoutState::New,
        CheckoutState::Resolved,
        CheckoutState::Billed,
        CheckoutState::Presettled,
        CheckoutState::Settling,
        CheckoutState::Settled,
        CheckoutState::Held,
        CheckoutState::Done,
        CheckoutState::Refunding,
        CheckoutState::Refunded,
        CheckoutState::Void,
        CheckoutState::OfflineQueued,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutState::New => "new",
            CheckoutState::Resolved => "resolved",
            CheckoutState::Billed => "billed",
            CheckoutState::Presettled => "presettled",
            CheckoutState::Settling => "settling",
            CheckoutState::Settled => "settled",
            CheckoutState::Held => "held",
            CheckoutState::Done => "done",
            CheckoutState::Refunding => "refunding",
            CheckoutState::Refunded => "refunded",
            CheckoutState::Void => "void",
            CheckoutState::OfflineQueued => "offline_queued",
        }
    }

    pub fn parse(s: &str) -> Result<CheckoutState> {
        CheckoutState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("checkout state {s:?}")))
    }

    /// The label the cashier reads.
    pub fn label_zh(self) -> &'static str {
        match self {
            CheckoutState::New => "待识别",
            CheckoutState::Resolved => "已识别",
            CheckoutState::Billed => "已录入账单",
            CheckoutState::Presettled => "已预结算",
            CheckoutState::Settling => "结算中",
            CheckoutState::Settled => "已结算待收款",
            CheckoutState::Held => "结算待核对",
            CheckoutState::Done => "已完成",
            CheckoutState::Refunding => "退费中",
            CheckoutState::Refunded => "已退费",
            CheckoutState::Void => "已作废",
            CheckoutState::OfflineQueued => "离线待结算",
        }
    }

    /// A money-moving call (2207/2208) may be in flight: the outcome must be
    /// resolved before anything else happens to the checkout.
    pub fn in_doubt(self) -> bool {
        matches!(self, CheckoutState::Settling | CheckoutState::Refunding)
    }
}

impl std::fmt::Display for CheckoutState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a checkout was (or is being) made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts-rs", derive(ts_rs::TS), ts(export))]
pub enum CheckoutMode {
    /// Settled with the center while the patient waits.
    #[default]
    Online,
    /// Collected locally while the center was unreachable; settled later from the queue.
    Offline,
    /// Booked from the center's own records at end of day (the ledger had lost it).
    Adopted,
}

impl CheckoutMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckoutMode::Online => "online",
            CheckoutMode::Offline => "offline",
            CheckoutMode::Adopted => "adopted",
        }
    }

    pub fn parse(s: &str) -> Result<CheckoutMode> {
        Ok(match s {
            "online" => CheckoutMode::Online,
            "offline" => CheckoutMode::Offline,
            "adopted" => CheckoutMode::Adopted,
            other => return Err(Error::Invalid(format!("checkout mode {other:?}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_match_serde() {
        for s in CheckoutState::ALL {
            assert_eq!(CheckoutState::parse(s.as_str()).unwrap(), s);
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        for m in [
            CheckoutMode::Online,
            CheckoutMode::Offline,
            CheckoutMode::Adopted,
        ] {
            assert_eq!(CheckoutMode::parse(m.as_str()).unwrap(), m);
            assert_eq!(
                serde_json::to_value(m).unwrap(),
                serde_json::json!(m.as_str())
            );
        }
        assert!(CheckoutState::parse("paid").is_err());
    }
}
