//! The `adjustments` table: differences between an offline estimate and the later settlement, open until paid.
use chrono::NaiveDateTime;
use money::Fen;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::payments::insert_payment_in;
use crate::{fmt_time, Ledger, NewPayment};

/// A difference between an offline estimate and the later settlement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adjustment {
    pub id: i64,
    pub checkout_id: String,
    /// > 0: the patient owes this; < 0: refund this to the patient.
    pub amount: Fen,
    pub reason: String,
    pub state: String,
    pub created_at: String,
    pub resolved_at: Option<String>,
}

impl Ledger {
    /// Record a difference between an offline estimate and the settlement.
    pub async fn add_adjustment(
        &self,
        checkout_id: &str,
        amount: Fen,
        reason: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let id = sqlx::query(
            "INSERT INTO adjustments (checkout_id, amount, reason, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(checkout_id)
        .bind(amount.0)
        .bind(reason)
        .bind(fmt_time(now))
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        append_in(
            &mut tx,
            self.key(),
            actor,
            "adjustment.open",
            &serde_json::json!({"checkout": checkout_id, "amount": amount, "reason": reason}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adjustments (open ones only when `open_only`), oldest first.
    pub async fn adjustments(&self, open_only: bool) -> Result<Vec<Adjustment>> {
        let rows = sqlx::query(
            "SELECT id, checkout_id, amount, reason, state, created_at, resolved_at FROM adjustments WHERE (? = 0 OR state = 'open') ORDER BY id",
        )
        .bind(open_only as i64)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| Adjustment {
                id: r.get(0),
                checkout_id: r.get(1),
                amount: Fen(r.get(2)),
                reason: r.get(3),
                state: r.get(4),
                created_at: r.get(5),
                resolved_at: r.get(6),
            })
            .collect())
    }

    /// Settle an adjustment with the payment that closes it (collected or returned).
    pub async fn resolve_adjustment(
        &self,
        id: i64,
        payment: &NewPayment,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE adjustments SET state = 'resolved', resolved_at = ? WHERE id = ? AND state = 'open'",
        )
        .bind(fmt_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound(format!("open adjustment {id}")));
        }
        insert_payment_in(&mut tx, payment, now).await?;
        append_in(
            &mut tx,
            self.key(),
            actor,
            "adjustment.resolve",
            &serde_json::json!({"adjustment": id, "checkout": payment.checkout_id, "channel": payment.channel.as_str(), "amount": payment.amount}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
