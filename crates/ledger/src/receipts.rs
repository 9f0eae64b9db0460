//! The `receipts` table: each receipt's data (sealed JSON) and its print status.
use chrono::NaiveDateTime;
use serde_json::Value;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, json_text, parse_json, Ledger};

impl Ledger {
    /// Store the data of a receipt (the receipt crate's `ReceiptData` as JSON).
    /// `key` is the setl_id, or the checkout id of a self-pay checkout.
    pub async fn save_receipt(
        &self,
        key: &str,
        checkout_id: &str,
        kind: &str,
        data: &Value,
        now: NaiveDateTime,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO receipts (key, checkout_id, kind, data_json, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(key) DO UPDATE SET data_json = excluded.data_json, kind = excluded.kind",
        )
        .bind(key)
        .bind(checkout_id)
        .bind(kind)
        .bind(self.key().seal_text(&json_text(data)))
        .bind(fmt_time(now))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The stored receipt data of a settlement (or self-pay checkout id).
    pub async fn receipt_json(&self, setl_id: &str) -> Result<Option<Value>> {
        let s: Option<String> = sqlx::query_scalar("SELECT data_json FROM receipts WHERE key = ?")
            .bind(setl_id)
            .fetch_optional(self.pool())
            .await?;
        s.map(|x| self.key().open_text(&x).map(parse_json))
            .transpose()
    }

    /// The print status of a receipt, if it was printed (or tried).
    pub async fn receipt_print_status(&self, key: &str) -> Result<Option<String>> {
        let s: Option<Option<String>> =
            sqlx::query_scalar("SELECT print_status FROM receipts WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(s.flatten())
    }

    /// `pending`, `printed`, `failed`, `reprinted` …
    pub async fn set_print_status(
        &self,
        key: &str,
        status: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE receipts SET print_status = ? WHERE key = ?")
            .bind(status)
            .bind(key)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound(format!("receipt {key}")));
        }
        append_in(
            &mut tx,
            self.key(),
            actor,
            "receipt.print",
            &serde_json::json!({"key": key, "status": status}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
