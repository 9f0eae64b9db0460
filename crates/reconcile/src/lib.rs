//! End of day (日结对账, docs/domain.md §5.1, §5.2): the day's settlements grouped
//! as 3201 wants them (insutype × clr_type × setl_optins), the 3202 detail
//! file and its result, and the cash drawer and card terminal against the
//! ledger's payments. Pure logic; the center calls are made by the checkout
//! engine.

use std::collections::BTreeMap;

use ledger::{PaymentChannel, PaymentRecord, SettlementKind, SettlementRecord};
use money::Fen;
use serde::{Deserialize, Serialize};

/// One 3201 group with the local totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub insutype: String,
    pub clr_type: String,
    pub setl_optins: String,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub cash_payamt: Fen,
    pub count: i64,
    /// The settlements in the group (for the 3202 detail file).
    pub rows: Vec<DetailRow>,
}

impl Group {
    /// A group with no settlements yet.
    pub fn new(insutype: &str, clr_type: &str, setl_optins: &str) -> Group {
        Group {
            insutype: insutype.into(),
            clr_type: clr_type.into(),
            setl_optins: setl_optins.into(),
            medfee_sumamt: Fen::ZERO,
            fund_pay_sumamt: Fen::ZERO,
            acct_pay: Fen::ZERO,
            cash_payamt: Fen::ZERO,
            count: 0,
            rows: Vec::new(),
        }
    }
}

/// One row of the 3202 detail file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailRow {
    pub setl_id: String,
    pub mdtrt_id: String,
    pub psn_no: String,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    /// 0 normal, 1 refund.
    pub refd_setl_flag: String,
}

/// Settlements of `day` (yyyy-mm-dd) grouped for 3201. With `include_refunds`
/// (refd_setl_flag 1) cancellations count as negative rows; without, only
/// settlements still standing count.
pub fn groups(settlements: &[SettlementRecord], day: &str, include_refunds: bool) -> Vec<Group> {
    let mut map: BTreeMap<(String, String, String), Group> = BTreeMap::new();
    for s in settlements {
        let on_day = s
            .setl_time
            .as_deref()
            .map(|t| t.starts_with(day))
            .unwrap_or(false);
        if !on_day {
            continue;
        }
        let counted = match (include_refunds, s.kind) {
            (true, _) => true,
            (false, SettlementKind::Settle) => s.cancelled_by.is_none(),
            (false, SettlementKind::Cancel) => false,
        };
        if !counted {
            continue;
        }
        let key = (
            s.insutype.clone().unwrap_or_default(),
            s.clr_type.clone().unwrap_or_else(|| "11".into()),
            s.clr_optins.clone().unwrap_or_default(),
        );
        let g = map
            .entry(key.clone())
            .or_insert_with(|| Group::new(&key.0, &key.1, &key.2));
        g.medfee_sumamt += s.medfee_sumamt;
        g.fund_pay_sumamt += s.fund_pay_sumamt;
        g.acct_pay += s.acct_pay;
        g.cash_payamt += s.psn_cash_pay;
        g.count += 1;
        g.rows.push(DetailRow {
            setl_id: s.setl_id.clone(),
            mdtrt_id: s.mdtrt_id.clone(),
            psn_no: s.psn_no.clone(),
            medfee_sumamt: s.medfee_sumamt,
            fund_pay_sumamt: s.fund_pay_sumamt,
            acct_pay: s.acct_pay,
            refd_setl_flag: if s.kind == SettlementKind::Cancel {
                "1".into()
            } else {
                "0".into()
            },
        });
    }
    map.into_values().collect()
}

/// The 3202 detail file: one tab-separated row per settlement
/// (setl_id, mdtrt_id, psn_no, medfee_sumamt, fund_pay_sumamt, acct_pay, refd_setl_flag).
pub fn detail_file(g: &Group) -> Vec<u8> {
    g.rows
        .iter()
        .map(|r| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                r.setl_id,
                r.mdtrt_id,
                r.psn_no,
                r.medfee_sumamt,
                r.fund_pay_sumamt,
                r.acct_pay,
                r.refd_setl_flag
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// One row of the 3202 result (from 9102).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultRow {
    pub psn_no: String,
    pub mdtrt_id: String,
    pub setl_id: String,
    pub msgid: String,
    /// 0 平, else 不平.
    pub stmt_rslt: String,
    pub refd_setl_flag: String,
    pub memo: String,
    pub medfee_sumamt: Option<Fen>,
}

/// Parse the 3202 result file (tab-separated: psn_no mdtrt_id setl_id msgid stmt_rslt refd_setl_flag memo medfee fund acct).
pub fn parse_result(text: &str) -> Result<Vec<ResultRow>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let c: Vec<&str> = l.split('\t').collect();
            if c.len() < 7 {
                return Err(format!("对账结果第 {} 行只有 {} 列", i + 1, c.len()));
            }
            Ok(ResultRow {
                psn_no: c[0].into(),
                mdtrt_id: c[1].into(),
                setl_id: c[2].into(),
                msgid: c[3].into(),
                stmt_rslt: c[4].into(),
                refd_setl_flag: c[5].into(),
                memo: c[6].into(),
                medfee_sumamt: c.get(7).and_then(|x| Fen::parse(x).ok()),
            })
        })
        .collect()
}

/// The drawer and the terminal against the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drawer {
    /// Cash the ledger says is in the drawer (collected − returned), plus the float.
    pub cash_expected: Fen,
    pub cash_counted: Option<Fen>,
    /// counted − expected: > 0 长款 (over), < 0 短款 (short).
    pub cash_variance: Option<Fen>,
    pub card_expected: Fen,
    pub card_terminal: Option<Fen>,
    pub card_variance: Option<Fen>,
    pub cash_count: i64,
    pub card_count: i64,
}

/// Payments of `day` by channel against what was counted.
pub fn drawer(
    payments: &[PaymentRecord],
    day: &str,
    float: Fen,
    cash_counted: Option<Fen>,
    card_terminal: Option<Fen>,
) -> Drawer {
    let today = payments.iter().filter(|p| p.created_at.starts_with(day));
    let (mut cash, mut card, mut nc, mut nk) = (Fen::ZERO, Fen::ZERO, 0, 0);
    for p in today {
        match p.payment.channel {
            PaymentChannel::Cash => {
                cash += p.payment.amount;
                nc += 1;
            }
            PaymentChannel::Card => {
                card += p.payment.amount;
                nk += 1;
            }
            _ => {}
        }
    }
    let cash_expected = cash + float;
    Drawer {
        cash_expected,
        cash_counted,
        cash_variance: cash_counted.map(|c| c - cash_expected),
        card_expected: card,
        card_terminal,
        card_variance: card_terminal.map(|c| c - card),
        cash_count: nc,
        card_count: nk,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(
        id: &str,
        kind: SettlementKind,
        medfee: &str,
        cancelled: Option<&str>,
    ) -> SettlementRecord {
        let f = |s: &str| Fen::parse(s).unwrap();
        SettlementRecord {
            setl_id: id.into(),
            checkout_id: "c".into(),
            msgid: "m".into(),
            kind,
            orig_setl_id: None,
            psn_no: "p".into(),
            mdtrt_id: "d".into(),
            insutype: Some("310".into()),
            clr_type: Some("11".into()),
            clr_optins: Some("440300".into()),
            clr_way: Some("1".into()),
            medfee_sumamt: f(medfee),
            fund_pay_sumamt: Fen::ZERO,
            acct_pay: f(medfee),
            acct_mulaid_pay: Fen::ZERO,
            psn_cash_pay: Fen::ZERO,
            hosp_part_amt: Fen::ZERO,
            balc: None,
            setl_time: Some("2026-11-25 10:00:00".into()),
            cancelled_by: cancelled.map(Into::into),
            response: serde_json::Value::Null,
        }
    }

    #[test]
    fn r1_and_r3_group_totals() {
        // R1: one settlement of 4.52.
        let g = groups(
            &[st("1", SettlementKind::Settle, "4.52", None)],
            "2026-11-25",
            false,
        );
        assert_eq!(
            (g.len(), g[0].count, g[0].medfee_sumamt),
            (1, 1, Fen::parse("4.52").unwrap())
        );
        // R3: settled then cancelled the same day — without refunds nothing counts, with refunds both (net 0).
        let day = [
            st("1", SettlementKind::Settle, "25.10", Some("2")),
            st("2", SettlementKind::Cancel, "-25.10", None),
        ];
        assert!(groups(&day, "2026-11-25", false).is_empty());
        let with = groups(&day, "2026-11-25", true);
        assert_eq!((with[0].count, with[0].medfee_sumamt), (2, Fen::ZERO));
        let file = String::from_utf8(detail_file(&with[0])).unwrap();
        assert!(file.contains("\t-25.10\t") && file.ends_with("\t1"));
    }

    #[test]
    fn parses_the_result_file() {
        let rows = parse_result(
            "p\td\t1\tm\t0\t0\t平\t4.52\t0.00\t4.52\np2\td2\t9\t\t1\t0\t中心有医院无\t3.00\t0\t3",
        )
        .unwrap();
        assert_eq!(rows[1].memo, "中心有医院无");
        assert!(parse_result("a\tb").is_err());
    }
}
