//! The institution's settlements of a day, as the hub holds them (`GET /v1/settlements`):
//! what the institution's end of day (`yibao hub close`) groups for 3201 and writes into
//! 3202's detail file, and what traces a difference to its counter and cashier.
use money::Fen;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPool;
use sqlx::Row;

/// One settlement or cancellation (2207 / 2208) a counter pushed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySettlement {
    /// The counter that pushed it (its hub id, e.g. `C07`).
    pub counter: String,
    /// Its fact's sequence number in that counter's audit log.
    pub seq: i64,
    /// `settle` or `cancel`.
    pub kind: String,
    pub setl_id: String,
    /// For a cancellation, the settlement it cancelled.
    #[serde(default)]
    pub orig_setl_id: String,
    #[serde(default)]
    pub msgid: String,
    /// Empty for facts pushed before the audit entry carried them.
    #[serde(default)]
    pub mdtrt_id: String,
    #[serde(default)]
    pub psn_no: String,
    /// The operator who settled (the audit entry's actor).
    pub cashier: String,
    pub insutype: String,
    pub clr_type: String,
    pub clr_optins: String,
    /// The center's settlement time; empty for older facts (then `day` stands for it).
    #[serde(default)]
    pub setl_time: String,
    pub day: String,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub acct_mulaid_pay: Fen,
    pub psn_cash_pay: Fen,
    /// For a settlement, the cancellation of it the hub holds (on any day).
    #[serde(default)]
    pub cancelled_by: Option<String>,
}

/// A counter's number (1–99, the two digits of its msgids), as its settlements show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterNo {
    pub counter: String,
    pub counter_no: Option<u8>,
}

/// The day's settlements of the whole institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySettlements {
    pub date: String,
    pub settlements: Vec<DaySettlement>,
    /// Every enrolled counter with the number its newest msgid carries.
    pub counters: Vec<CounterNo>,
}

/// Where a settlement came from: the counter and the cashier, as far as the hub knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// The counter's hub id; `None` when no counter is known for it.
    pub counter: Option<String>,
    /// The counter number of its msgid.
    pub counter_no: Option<u8>,
    /// The operator who settled; `None` when the hub never received the settlement.
    pub cashier: Option<String>,
}

impl DaySettlement {
    /// As a ledger settlement, for `reconcile::groups` and the 3202 detail file.
    pub fn record(&self) -> ledger::SettlementRecord {
        let kind = if self.kind == "cancel" {
            ledger::SettlementKind::Cancel
        } else {
            ledger::SettlementKind::Settle
        };
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        ledger::SettlementRecord {
            setl_id: self.setl_id.clone(),
            checkout_id: format!("{}:{}", self.counter, self.seq),
            msgid: self.msgid.clone(),
            kind,
            orig_setl_id: opt(&self.orig_setl_id),
            psn_no: self.psn_no.clone(),
            mdtrt_id: self.mdtrt_id.clone(),
            insutype: Some(self.insutype.clone()),
            clr_type: opt(&self.clr_type),
            clr_optins: Some(self.clr_optins.clone()),
            clr_way: None,
            medfee_sumamt: self.medfee_sumamt,
            fund_pay_sumamt: self.fund_pay_sumamt,
            acct_pay: self.acct_pay,
            acct_mulaid_pay: self.acct_mulaid_pay,
            psn_cash_pay: self.psn_cash_pay,
            hosp_part_amt: Fen::ZERO,
            balc: None,
            setl_time: Some(if self.setl_time.is_empty() {
                self.day.clone()
            } else {
                self.setl_time.clone()
            }),
            cancelled_by: self.cancelled_by.clone(),
            response: serde_json::Value::Null,
        }
    }
}

impl DaySettlements {
    /// The ledger settlements of the day (for `reconcile::groups`).
    pub fn records(&self) -> Vec<ledger::SettlementRecord> {
        self.settlements.iter().map(DaySettlement::record).collect()
    }

    /// Trace a settlement to its counter and cashier: by `setl_id` among the facts the
    /// hub holds; failing that (the center has a settlement no counter pushed) by the
    /// counter number in its `msgid` — then the cashier is unknown.
    pub fn trace(&self, setl_id: &str, msgid: &str) -> Trace {
        if let Some(s) = self
            .settlements
            .iter()
            .find(|s| !setl_id.is_empty() && s.setl_id == setl_id)
        {
            return Trace {
                counter: Some(s.counter.clone()),
                counter_no: ledger::counter_of_msgid(&s.msgid),
                cashier: Some(s.cashier.clone()),
            };
        }
        let no = ledger::counter_of_msgid(msgid);
        let counters: Vec<&str> = self
            .counters
            .iter()
            .filter(|c| no.is_some() && c.counter_no == no)
            .map(|c| c.counter.as_str())
            .collect();
        Trace {
            counter: (!counters.is_empty()).then(|| counters.join("/")),
            counter_no: no,
            cashier: None,
        }
    }
}

/// The day's settlements and cancellations (by the settlement's own day), with the
/// cancellation of each settlement the hub holds (made that day or later), and each
/// enrolled counter's number. The rows are read as a stream, never all at once.
pub async fn of_day(pool: &PgPool, date: &str) -> Result<DaySettlements, sqlx::Error> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query(
        "SELECT s.counter_id, s.seq, s.kind, s.setl_id, s.orig_setl_id, s.msgid, s.mdtrt_id, s.psn_no,
                s.actor, s.insutype, s.clr_type, s.clr_optins, s.setl_time, s.day,
                s.medfee, s.fund, s.acct, s.mulaid, s.cash, c.setl_id AS cancelled_by
           FROM money_facts s
           LEFT JOIN (SELECT orig_setl_id, MIN(setl_id) AS setl_id FROM money_facts
                       WHERE day >= $1 AND kind = 'cancel' GROUP BY orig_setl_id) c
             ON s.kind = 'settle' AND c.orig_setl_id = s.setl_id
          WHERE s.day = $1 AND s.kind IN ('settle', 'cancel')
          ORDER BY s.counter_id, s.seq",
    )
    .bind(date)
    .fetch(pool);
    let mut settlements = Vec::new();
    while let Some(r) = rows.try_next().await? {
        let t = |i: usize| r.get::<String, _>(i);
        let f = |i: usize| Fen(r.get::<i64, _>(i));
        settlements.push(DaySettlement {
            counter: t(0),
            seq: r.get(1),
            kind: t(2),
            setl_id: t(3),
            orig_setl_id: t(4),
            msgid: t(5),
            mdtrt_id: t(6),
            psn_no: t(7),
            cashier: t(8),
            insutype: t(9),
            clr_type: t(10),
            clr_optins: t(11),
            setl_time: t(12),
            day: t(13),
            medfee_sumamt: f(14),
            fund_pay_sumamt: f(15),
            acct_pay: f(16),
            acct_mulaid_pay: f(17),
            psn_cash_pay: f(18),
            cancelled_by: r.get(19),
        });
    }
    drop(rows);
    // Each counter's number from its msgids: the day's own settlements first, else its
    // newest money fact with one (the primary key read backwards: one row).
    let enrolled: Vec<String> =
        sqlx::query_scalar("SELECT counter_id FROM counters ORDER BY counter_id")
            .fetch_all(pool)
            .await?;
    let mut counters = Vec::with_capacity(enrolled.len());
    for counter in enrolled {
        let mut counter_no = settlements
            .iter()
            .rev()
            .filter(|s| s.counter == counter)
            .find_map(|s| ledger::counter_of_msgid(&s.msgid));
        if counter_no.is_none() {
            let newest: Option<String> = sqlx::query_scalar(
                "SELECT msgid FROM money_facts WHERE counter_id = $1 AND msgid <> ''
                  ORDER BY seq DESC LIMIT 1",
            )
            .bind(&counter)
            .fetch_optional(pool)
            .await?;
            counter_no = newest.and_then(|m| ledger::counter_of_msgid(&m));
        }
        counters.push(CounterNo {
            counter,
            counter_no,
        });
    }
    Ok(DaySettlements {
        date: date.to_string(),
        settlements,
        counters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(counter: &str, setl_id: &str, msgid: &str) -> DaySettlement {
        DaySettlement {
            counter: counter.into(),
            seq: 3,
            kind: "settle".into(),
            setl_id: setl_id.into(),
            orig_setl_id: String::new(),
            msgid: msgid.into(),
            mdtrt_id: "M1".into(),
            psn_no: "P1".into(),
            cashier: "C107".into(),
            insutype: "310".into(),
            clr_type: "11".into(),
            clr_optins: "440300".into(),
            setl_time: String::new(),
            day: "2026-12-01".into(),
            medfee_sumamt: Fen(452),
            fund_pay_sumamt: Fen::ZERO,
            acct_pay: Fen(452),
            acct_mulaid_pay: Fen::ZERO,
            psn_cash_pay: Fen::ZERO,
            cancelled_by: None,
        }
    }

    #[test]
    fn traces_by_setl_id_then_by_the_msgids_counter_number() {
        let day = DaySettlements {
            date: "2026-12-01".into(),
            settlements: vec![st("C07", "S1", "H44030300001202612011000000701")],
            counters: vec![
                CounterNo {
                    counter: "C07".into(),
                    counter_no: Some(7),
                },
                CounterNo {
                    counter: "C03".into(),
                    counter_no: Some(3),
                },
            ],
        };
        let t = day.trace("S1", "");
        assert_eq!(
            (t.counter.as_deref(), t.cashier.as_deref(), t.counter_no),
            (Some("C07"), Some("C107"), Some(7))
        );
        // The center has a settlement the hub never received: the counter by its msgid.
        let t = day.trace("S9", "H44030300001202612011000000342");
        assert_eq!(
            (t.counter.as_deref(), t.cashier, t.counter_no),
            (Some("C03"), None, Some(3))
        );
        let t = day.trace("S9", "");
        assert_eq!((t.counter, t.cashier, t.counter_no), (None, None, None));
        // An older fact without setl_time stands on its day.
        let r = day.settlements[0].record();
        assert_eq!(r.setl_time.as_deref(), Some("2026-12-01"));
        assert_eq!(reconcile::groups(&[r], "2026-12-01", false)[0].count, 1);
    }
}
