//! The `settlements` table: the 2207 (settle) and 2208 (cancel) answers, and the ledger's totals.
use chrono::NaiveDateTime;
use money::Fen;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::audit::append_in;
use crate::checkouts::save_checkout_in;
use crate::error::{Error, Result};
use crate::payments::insert_payment_in;
use crate::{fmt_time, json_text, parse_json, CheckoutRecord, Ledger, NewPayment};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementKind {
    Settle,
    Cancel,
}

impl SettlementKind {
    fn as_str(self) -> &'static str {
        match self {
            SettlementKind::Settle => "settle",
            SettlementKind::Cancel => "cancel",
        }
    }
}

/// A 2207 (settle) or 2208 (cancel) answer as stored. Cancel amounts are negative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementRecord {
    pub setl_id: String,
    pub checkout_id: String,
    pub msgid: String,
    pub kind: SettlementKind,
    pub orig_setl_id: Option<String>,
    pub psn_no: String,
    pub mdtrt_id: String,
    pub insutype: Option<String>,
    pub clr_type: Option<String>,
    pub clr_optins: Option<String>,
    pub clr_way: Option<String>,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub acct_mulaid_pay: Fen,
    pub psn_cash_pay: Fen,
    pub hosp_part_amt: Fen,
    pub balc: Option<Fen>,
    pub setl_time: Option<String>,
    pub cancelled_by: Option<String>,
    pub response: Value,
}

/// Net totals of the settlements in the ledger (cancels count negative).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerTotals {
    pub settle_count: i64,
    pub cancel_count: i64,
    pub medfee_sumamt: Fen,
    pub fund_pay_sumamt: Fen,
    pub acct_pay: Fen,
    pub psn_cash_pay: Fen,
    /// Cash and card actually collected minus returned.
    pub collected_cash: Fen,
    pub collected_card: Fen,
}

const ST_COLS: &str = "setl_id, checkout_id, msgid, kind, orig_setl_id, psn_no, mdtrt_id, insutype, clr_type, clr_optins, clr_way, medfee_sumamt, fund_pay_sumamt, acct_pay, acct_mulaid_pay, psn_cash_pay, hosp_part_amt, balc, setl_time, cancelled_by, response_json";

fn row_to_settlement(
    key: &crate::LedgerKey,
    r: &sqlx::sqlite::SqliteRow,
) -> Result<SettlementRecord> {
    let kind: String = r.get(3);
    Ok(SettlementRecord {
        setl_id: r.get(0),
        checkout_id: r.get(1),
        msgid: r.get(2),
        kind: if kind == "cancel" {
            SettlementKind::Cancel
        } else {
            SettlementKind::Settle
        },
        orig_setl_id: r.get(4),
        psn_no: r.get(5),
        mdtrt_id: r.get(6),
        insutype: r.get(7),
        clr_type: r.get(8),
        clr_optins: r.get(9),
        clr_way: r.get(10),
        medfee_sumamt: Fen(r.get(11)),
        fund_pay_sumamt: Fen(r.get(12)),
        acct_pay: Fen(r.get(13)),
        acct_mulaid_pay: Fen(r.get(14)),
        psn_cash_pay: Fen(r.get(15)),
        hosp_part_amt: Fen(r.get(16)),
        balc: r.get::<Option<i64>, _>(17).map(Fen),
        setl_time: r.get(18),
        cancelled_by: r.get(19),
        response: parse_json(key.open_text(&r.get::<String, _>(20))?),
    })
}

impl Ledger {
    /// Record a 2207/2208 answer atomically: the call becomes `ok` with its
    /// response, the settlement row and the insurance-side payments are written,
    /// a cancel marks the original as cancelled, and the checkout is saved.
    pub async fn record_settlement(
        &self,
        rec: &SettlementRecord,
        payments: &[NewPayment],
        checkout: &CheckoutRecord,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT checkout_id FROM settlements WHERE setl_id = ?")
                .bind(&rec.setl_id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_some() {
            return Err(Error::Conflict(format!(
                "settlement {} already recorded",
                rec.setl_id
            )));
        }
        sqlx::query(
            "UPDATE center_calls SET state = 'ok', response_json = ?, finished_at = ? WHERE msgid = ?",
        )
        .bind(self.key().seal_text(&json_text(&rec.response)))
        .bind(fmt_time(now))
        .bind(&rec.msgid)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "INSERT INTO settlements ({ST_COLS}, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&rec.setl_id)
        .bind(&rec.checkout_id)
        .bind(&rec.msgid)
        .bind(rec.kind.as_str())
        .bind(&rec.orig_setl_id)
        .bind(&rec.psn_no)
        .bind(&rec.mdtrt_id)
        .bind(&rec.insutype)
        .bind(&rec.clr_type)
        .bind(&rec.clr_optins)
        .bind(&rec.clr_way)
        .bind(rec.medfee_sumamt.0)
        .bind(rec.fund_pay_sumamt.0)
        .bind(rec.acct_pay.0)
        .bind(rec.acct_mulaid_pay.0)
        .bind(rec.psn_cash_pay.0)
        .bind(rec.hosp_part_amt.0)
        .bind(rec.balc.map(|b| b.0))
        .bind(&rec.setl_time)
        .bind(&rec.cancelled_by)
        .bind(self.key().seal_text(&json_text(&rec.response)))
        .bind(fmt_time(now))
        .execute(&mut *tx)
        .await?;
        if rec.kind == SettlementKind::Cancel {
            if let Some(orig) = &rec.orig_setl_id {
                sqlx::query("UPDATE settlements SET cancelled_by = ? WHERE setl_id = ?")
                    .bind(&rec.setl_id)
                    .bind(orig)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for p in payments {
            insert_payment_in(&mut tx, p, now).await?;
        }
        append_in(
            &mut tx,
            self.key(),
            actor,
            &format!("settlement.{}", rec.kind.as_str()),
            &serde_json::json!({
                "setl_id": rec.setl_id, "checkout": rec.checkout_id, "msgid": rec.msgid,
                "orig_setl_id": rec.orig_setl_id,
                "medfee_sumamt": rec.medfee_sumamt, "fund_pay_sumamt": rec.fund_pay_sumamt,
                "acct_pay": rec.acct_pay, "acct_mulaid_pay": rec.acct_mulaid_pay,
                "psn_cash_pay": rec.psn_cash_pay, "insutype": rec.insutype,
                "clr_type": rec.clr_type, "clr_optins": rec.clr_optins,
                // For the institution's 3202 from the hub (older entries lack them).
                "psn_no": rec.psn_no, "mdtrt_id": rec.mdtrt_id, "setl_time": rec.setl_time,
            }),
            now,
        )
        .await?;
        save_checkout_in(self, &mut tx, checkout, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn settlement(&self, setl_id: &str) -> Result<Option<SettlementRecord>> {
        let r = sqlx::query(&format!(
            "SELECT {ST_COLS} FROM settlements WHERE setl_id = ?"
        ))
        .bind(setl_id)
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| row_to_settlement(self.key(), &r)).transpose()
    }

    /// All settlements (settle and cancel), oldest first.
    pub async fn settlements(&self) -> Result<Vec<SettlementRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {ST_COLS} FROM settlements ORDER BY created_at, rowid"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| row_to_settlement(self.key(), r))
            .collect()
    }

    pub async fn settlements_of_checkout(
        &self,
        checkout_id: &str,
    ) -> Result<Vec<SettlementRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {ST_COLS} FROM settlements WHERE checkout_id = ? ORDER BY created_at, rowid"
        ))
        .bind(checkout_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| row_to_settlement(self.key(), r))
            .collect()
    }

    /// Net totals over all settlements and cash/card payments.
    pub async fn totals(&self) -> Result<LedgerTotals> {
        let r = sqlx::query(
            "SELECT COALESCE(SUM(kind = 'settle'), 0), COALESCE(SUM(kind = 'cancel'), 0),
                    COALESCE(SUM(medfee_sumamt), 0), COALESCE(SUM(fund_pay_sumamt), 0),
                    COALESCE(SUM(acct_pay), 0), COALESCE(SUM(psn_cash_pay), 0)
             FROM settlements",
        )
        .fetch_one(self.pool())
        .await?;
        let pay = sqlx::query(
            "SELECT COALESCE(SUM(CASE WHEN channel = 'cash' THEN amount END), 0),
                    COALESCE(SUM(CASE WHEN channel = 'card' THEN amount END), 0) FROM payments",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(LedgerTotals {
            settle_count: r.get(0),
            cancel_count: r.get(1),
            medfee_sumamt: Fen(r.get(2)),
            fund_pay_sumamt: Fen(r.get(3)),
            acct_pay: Fen(r.get(4)),
            psn_cash_pay: Fen(r.get(5)),
            collected_cash: Fen(pay.get(0)),
            collected_card: Fen(pay.get(1)),
        })
    }
}
