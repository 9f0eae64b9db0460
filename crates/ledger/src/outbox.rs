//! The offline queue: items replayed in order, each exactly once, with backoff.
//! One process drains the queue at a time (a lease row).
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, Ledger};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts-rs", derive(ts_rs::TS), ts(export))]
pub enum OutboxState {
    /// Waiting (for the center, or for its next attempt time).
    Queued,
    /// An attempt is running (after a crash: resumed by the next drain).
    Sending,
    /// Done exactly once.
    Done,
    /// Refused by the center for a business reason: needs the cashier (retry puts it back).
    Failed,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Queued => "queued",
            OutboxState::Sending => "sending",
            OutboxState::Done => "done",
            OutboxState::Failed => "failed",
        }
    }
    pub fn parse(s: &str) -> Result<OutboxState> {
        Ok(match s {
            "queued" => OutboxState::Queued,
            "sending" => OutboxState::Sending,
            "done" => OutboxState::Done,
            "failed" => OutboxState::Failed,
            other => return Err(Error::Invalid(format!("outbox state {other:?}"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub seq: i64,
    /// Client-made id, written before the first send.
    pub id: String,
    pub kind: String,
    pub checkout_id: Option<String>,
    pub payload: Value,
    pub state: OutboxState,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub result: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

const COLS: &str = "seq, id, kind, checkout_id, payload_json, state, attempts, next_attempt_at, last_error, result_json, created_at, updated_at";

fn row_to_item(r: &sqlx::sqlite::SqliteRow) -> Result<OutboxItem> {
    let payload: String = r.get(4);
    let result: Option<String> = r.get(9);
    Ok(OutboxItem {
        seq: r.get(0),
        id: r.get(1),
        kind: r.get(2),
        checkout_id: r.get(3),
        payload: serde_json::from_str(&payload).unwrap_or(Value::String(payload)),
        state: OutboxState::parse(&r.get::<String, _>(5))?,
        attempts: r.get(6),
        next_attempt_at: r.get(7),
        last_error: r.get(8),
        result: result.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))),
        created_at: r.get(10),
        updated_at: r.get(11),
    })
}

impl Ledger {
    /// Queue an item (and, atomically, save the checkout that queued it).
    pub async fn enqueue(
        &self,
        kind: &str,
        checkout: Option<&crate::CheckoutRecord>,
        payload: &Value,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<OutboxItem> {
        let id = uuid::Uuid::new_v4().to_string();
        let t = fmt_time(now);
        let mut tx = self.write_tx().await?;
        if let Some(c) = checkout {
            crate::checkouts::save_checkout_in(self, &mut tx, c, actor, now).await?;
        }
        let seq = sqlx::query(
            "INSERT INTO outbox (id, kind, checkout_id, payload_json, state, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)",
        )
        .bind(&id)
        .bind(kind)
        .bind(checkout.map(|c| c.id.as_str()))
        .bind(payload.to_string())
        .bind(&t)
        .bind(&t)
        .bind(&t)
        .execute(&mut *tx)
        .await?
        .last_insert_rowid();
        append_in(
            &mut tx,
            self.key(),
            actor,
            "outbox.enqueue",
            &serde_json::json!({"id": id, "seq": seq, "kind": kind, "checkout": checkout.map(|c| c.id.clone())}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.outbox_item(&id)
            .await?
            .ok_or_else(|| Error::NotFound(id))
    }

    pub async fn outbox_item(&self, id: &str) -> Result<Option<OutboxItem>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM outbox WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| row_to_item(&r)).transpose()
    }

    /// All items in replay order (done ones included when `include_done`).
    pub async fn outbox(&self, include_done: bool) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM outbox WHERE (? = 1 OR state != 'done') ORDER BY seq"
        ))
        .bind(include_done as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_item).collect()
    }

    /// The oldest unfinished item that is not failed (queued or interrupted while sending).
    /// Replay is strictly in order: if it is not due yet, nothing is.
    pub async fn outbox_head(&self) -> Result<Option<OutboxItem>> {
        let r = sqlx::query(&format!(
            "SELECT {COLS} FROM outbox WHERE state IN ('queued', 'sending') ORDER BY seq LIMIT 1"
        ))
        .fetch_optional(self.pool())
        .await?;
        r.map(|r| row_to_item(&r)).transpose()
    }

    /// Take (or renew) the queue lease for `holder` until `until`. False when another
    /// live holder has it.
    pub async fn acquire_outbox_lease(
        &self,
        holder: &str,
        now: NaiveDateTime,
        until: NaiveDateTime,
    ) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let cur = sqlx::query("SELECT holder, expires_at FROM outbox_lease WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = cur {
            let h: String = r.get(0);
            let exp: String = r.get(1);
            if h != holder && exp > fmt_time(now) {
                return Ok(false);
            }
        }
        sqlx::query(
            "INSERT INTO outbox_lease (id, holder, expires_at) VALUES (1, ?, ?)
             ON CONFLICT(id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
        )
        .bind(holder)
        .bind(fmt_time(until))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn release_outbox_lease(&self, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM outbox_lease WHERE id = 1 AND holder = ?")
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// An attempt starts (written before the item's first call is sent).
    pub async fn outbox_attempt(&self, id: &str, now: NaiveDateTime) -> Result<OutboxItem> {
        sqlx::query(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state IN ('queued', 'sending')",
        )
        .bind(fmt_time(now))
        .bind(id)
        .execute(self.pool())
        .await?;
        self.outbox_item(id)
            .await?
            .ok_or_else(|| Error::NotFound(id.into()))
    }

    /// The item is done (exactly once); the checkout's new state is saved with it.
    pub async fn outbox_done(
        &self,
        id: &str,
        result: &Value,
        checkout: Option<&crate::CheckoutRecord>,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE outbox SET state = 'done', result_json = ?, last_error = NULL, updated_at = ? WHERE id = ? AND state != 'done'",
        )
        .bind(result.to_string())
        .bind(fmt_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::Conflict(format!("outbox item {id} is already done")));
        }
        if let Some(c) = checkout {
            crate::checkouts::save_checkout_in(self, &mut tx, c, actor, now).await?;
        }
        append_in(
            &mut tx,
            self.key(),
            actor,
            "outbox.done",
            &serde_json::json!({"id": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A retryable failure: back to `queued` with the next attempt time.
    pub async fn outbox_retry_later(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: NaiveDateTime,
        now: NaiveDateTime,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET state = 'queued', last_error = ?, next_attempt_at = ?, updated_at = ? WHERE id = ? AND state != 'done'",
        )
        .bind(error)
        .bind(fmt_time(next_attempt_at))
        .bind(fmt_time(now))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// A failure that needs the cashier: the item leaves the replay until retried.
    pub async fn outbox_fail(
        &self,
        id: &str,
        error: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ? AND state != 'done'",
        )
        .bind(error)
        .bind(fmt_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        append_in(
            &mut tx,
            self.key(),
            actor,
            "outbox.failed",
            &serde_json::json!({"id": id, "error": error}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The cashier's "retry": a failed or waiting item becomes due now.
    pub async fn outbox_retry_now(&self, id: &str, actor: &str, now: NaiveDateTime) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE outbox SET state = 'queued', next_attempt_at = ?, updated_at = ? WHERE id = ? AND state IN ('queued', 'failed')",
        )
        .bind(fmt_time(now))
        .bind(fmt_time(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound(format!("retryable outbox item {id}")));
        }
        append_in(
            &mut tx,
            self.key(),
            actor,
            "outbox.retry",
            &serde_json::json!({"id": id}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
