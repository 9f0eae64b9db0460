//! The outbox's jobs: what waits for the center, as one enum. The ledger stores a
//! job as its `kind` text and a JSON payload (the forms ledgers have always held).
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use ledger::OutboxItem;

/// One job of the offline queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Job {
    /// Settle an offline checkout (1101 by 身份证 → 2201 … 2207).
    Settle { checkout_id: String },
    /// Reverse (2601) a 2207/2208 whose outcome is unknown.
    Reverse {
        omsgid: String,
        oinfno: String,
        psn_no: String,
        insuplc: String,
    },
    /// End an operator's day at the center (9002) — sent as that operator, whoever
    /// is signed in when it is replayed (the sign_no is theirs). Items queued before
    /// the operator was recorded have empty ids and are sent as the one replaying.
    SignOut {
        sign_no: String,
        operator_id: String,
        operator_name: String,
    },
    /// Tell the HIS a bill is paid (with its setl_id). HIS notices are their own lane:
    /// while the HIS is down they wait without holding up the center's jobs.
    HisPaid(his::PaidNotice),
    /// Tell the HIS a paid bill is refunded.
    HisRefunded(his::RefundNotice),
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Settle { .. } => "settle",
            Job::Reverse { .. } => "reverse",
            Job::SignOut { .. } => "signout",
            Job::HisPaid(_) => "his_paid",
            Job::HisRefunded(_) => "his_refunded",
        }
    }

    /// A notice to the HIS (not a call to the center).
    pub fn is_his(&self) -> bool {
        matches!(self, Job::HisPaid(_) | Job::HisRefunded(_))
    }

    pub fn payload(&self) -> Value {
        match self {
            Job::Settle { checkout_id } => json!({"checkout_id": checkout_id}),
            Job::Reverse {
                omsgid,
                oinfno,
                psn_no,
                insuplc,
            } => json!({"omsgid": omsgid, "oinfno": oinfno, "psn_no": psn_no, "insuplc": insuplc}),
            Job::SignOut {
                sign_no,
                operator_id,
                operator_name,
            } => {
                json!({"sign_no": sign_no, "operator_id": operator_id, "operator_name": operator_name})
            }
            Job::HisPaid(n) => serde_json::to_value(n).unwrap_or(Value::Null),
            Job::HisRefunded(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        }
    }

    /// The job a queued item holds; `Err` names an item this version cannot run.
    pub fn of(item: &OutboxItem) -> Result<Job, String> {
        let p = &item.payload;
        let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Ok(match item.kind.as_str() {
            "settle" => Job::Settle {
                checkout_id: item
                    .checkout_id
                    .clone()
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| s("checkout_id")),
            },
            "reverse" => Job::Reverse {
                omsgid: s("omsgid"),
                oinfno: s("oinfno"),
                psn_no: s("psn_no"),
                insuplc: s("insuplc"),
            },
            "signout" => Job::SignOut {
                sign_no: s("sign_no"),
                operator_id: s("operator_id"),
                operator_name: s("operator_name"),
            },
            "his_paid" => Job::HisPaid(
                serde_json::from_value(p.clone())
                    .map_err(|e| format!("HIS 缴费通知无法读取：{e}"))?,
            ),
            "his_refunded" => Job::HisRefunded(
                serde_json::from_value(p.clone())
                    .map_err(|e| format!("HIS 退费通知无法读取：{e}"))?,
            ),
            other => return Err(format!("未知的队列项类型 {other}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_payloads_are_the_stored_forms() {
        for j in [
            Job::Settle {
                checkout_id: "c1".into(),
            },
            Job::Reverse {
                omsgid: "m".into(),
                oinfno: "2207".into(),
                psn_no: "p".into(),
                insuplc: "440300".into(),
            },
            Job::SignOut {
                sign_no: "s".into(),
                operator_id: "C001".into(),
                operator_name: "甲".into(),
            },
            Job::HisPaid(his::PaidNotice {
                notice_id: "c1-paid".into(),
                bill_id: "HIS-1".into(),
                setl_id: "S1".into(),
                mdtrt_id: "M1".into(),
                psn_no: "P1".into(),
                medfee_sumamt: "70.00".into(),
                fund_pay_sumamt: "49.00".into(),
                psn_cash_pay: "21.00".into(),
                paid_at: "2026-12-01 09:00:00".into(),
            }),
        ] {
            let item = OutboxItem {
                id: "1".into(),
                kind: j.kind().into(),
                checkout_id: match &j {
                    Job::Settle { checkout_id } => Some(checkout_id.clone()),
                    _ => None,
                },
                payload: j.payload(),
                seq: 1,
                state: ledger::OutboxState::Queued,
                attempts: 0,
                next_attempt_at: String::new(),
                last_error: None,
                result: None,
                created_at: String::new(),
                updated_at: String::new(),
            };
            assert_eq!(Job::of(&item).unwrap(), j);
        }
    }
}
