//! Every call to the center, recorded with its msgid before it is sent.
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, format_msgid, next_seq_in, Ledger};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Recorded, about to be sent (after a crash: may or may not have reached the center).
    Pending,
    /// Handed to the network.
    Sent,
    /// A definite success answer.
    Ok,
    /// A definite failure (business error, or refused before it was sent).
    Failed,
    /// No answer (timeout / reset after sending): outcome unknown.
    InDoubt,
    /// Reversed by a 2601 (or found not to exist): the center holds nothing.
    Reversed,
}

impl CallState {
    pub fn as_str(self) -> &'static str {
        match self {
            CallState::Pending => "pending",
            CallState::Sent => "sent",
            CallState::Ok => "ok",
            CallState::Failed => "failed",
            CallState::InDoubt => "in_doubt",
            CallState::Reversed => "reversed",
        }
    }
    pub fn parse(s: &str) -> Result<CallState> {
        Ok(match s {
            "pending" => CallState::Pending,
            "sent" => CallState::Sent,
            "ok" => CallState::Ok,
            "failed" => CallState::Failed,
            "in_doubt" => CallState::InDoubt,
            "reversed" => CallState::Reversed,
            other => return Err(Error::Invalid(format!("call state {other:?}"))),
        })
    }
    /// Not finished: after a crash its outcome is unknown.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            CallState::Pending | CallState::Sent | CallState::InDoubt
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CenterCall {
    pub msgid: String,
    pub checkout_id: Option<String>,
    pub outbox_id: Option<String>,
    pub infno: String,
    pub omsgid: Option<String>,
    pub request: Value,
    pub state: CallState,
    pub response: Option<Value>,
    pub error_code: Option<String>,
    pub error_msg: Option<String>,
    pub resolution: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

const COLS: &str = "msgid, checkout_id, outbox_id, infno, omsgid, request_json, state, response_json, error_code, error_msg, resolution, created_at, finished_at";

fn row_to_call(key: &crate::LedgerKey, r: &sqlx::sqlite::SqliteRow) -> Result<CenterCall> {
    let req: String = key.open_text(&r.get::<String, _>(5))?;
    let resp: Option<String> = r
        .get::<Option<String>, _>(7)
        .map(|s| key.open_text(&s))
        .transpose()?;
    let error_msg: Option<String> = r
        .get::<Option<String>, _>(9)
        .map(|s| key.open_text(&s))
        .transpose()?;
    Ok(CenterCall {
        msgid: r.get(0),
        checkout_id: r.get(1),
        outbox_id: r.get(2),
        infno: r.get(3),
        omsgid: r.get(4),
        request: serde_json::from_str(&req).unwrap_or(Value::String(req)),
        state: CallState::parse(&r.get::<String, _>(6))?,
        response: resp.map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))),
        error_code: r.get(8),
        error_msg,
        resolution: r.get(10),
        created_at: r.get(11),
        finished_at: r.get(12),
    })
}

/// Which calls are recorded in the audit log as well (money-moving ones).
fn audited(infno: &str) -> bool {
    matches!(infno, "2207" | "2208" | "2601")
}

impl Ledger {
    /// Allocate a msgid and record the call (state `pending`) durably, before it is sent.
    /// `request` is the transaction's input (the `input` node).
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_call(
        &self,
        fixmedins_code: &str,
        checkout_id: Option<&str>,
        outbox_id: Option<&str>,
        infno: &str,
        omsgid: Option<&str>,
        request: &Value,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<String> {
        let mut tx = self.write_tx().await?;
        // Requests carry names, ID numbers and tokens: sealed at rest (SM4).
        let request = self
            .key()
            .seal_text(&serde_json::to_string(request).map_err(|e| Error::Invalid(e.to_string()))?);
        // The 2-digit sequence wraps every 100 calls: in the (rare) second that has
        // seen a hundred, the next free value is taken; past that the call waits.
        let mut msgid = String::new();
        for attempt in 0..=100 {
            if attempt == 100 {
                return Err(Error::Conflict(format!(
                    "more than 100 calls in one second ({msgid})"
                )));
            }
            let (counter, seq) = next_seq_in(&mut tx).await?;
            msgid = format_msgid(fixmedins_code, now, counter, seq);
            let r = sqlx::query(
                "INSERT INTO center_calls (msgid, checkout_id, outbox_id, infno, omsgid, request_json, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
            )
            .bind(&msgid)
            .bind(checkout_id)
            .bind(outbox_id)
            .bind(infno)
            .bind(omsgid)
            .bind(&request)
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await;
            match r {
                Ok(_) => break,
                Err(sqlx::Error::Database(d)) if d.message().contains("UNIQUE") => continue,
                Err(other) => return Err(Error::Db(other)),
            }
        }
        if audited(infno) {
            append_in(
                &mut tx,
                self.key(),
                actor,
                &format!("call.{infno}.begin"),
                &serde_json::json!({"msgid": msgid, "checkout": checkout_id, "omsgid": omsgid}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(msgid)
    }

    /// Record the outcome of a call.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_call(
        &self,
        msgid: &str,
        state: CallState,
        response: Option<&Value>,
        error_code: Option<&str>,
        error_msg: Option<&str>,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let infno: Option<String> =
            sqlx::query_scalar("SELECT infno FROM center_calls WHERE msgid = ?")
                .bind(msgid)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(infno) = infno else {
            return Err(Error::NotFound(format!("center call {msgid}")));
        };
        sqlx::query(
            "UPDATE center_calls SET state = ?, response_json = ?, error_code = ?, error_msg = ?, finished_at = ? WHERE msgid = ?",
        )
        .bind(state.as_str())
        .bind(response.map(|v| self.key().seal_text(&v.to_string())))
        .bind(error_code)
        .bind(error_msg.map(|m| self.key().seal_text(m)))
        .bind(fmt_time(now))
        .bind(msgid)
        .execute(&mut *tx)
        .await?;
        if audited(&infno) {
            append_in(
                &mut tx,
                self.key(),
                actor,
                &format!("call.{infno}.{}", state.as_str()),
                &serde_json::json!({"msgid": msgid, "error_code": error_code}),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Mark an open call as resolved (e.g. `reversed` after a 2601, `failed` when
    /// the center says it never had it, `ok` when adopted from a query).
    pub async fn resolve_call(
        &self,
        msgid: &str,
        state: CallState,
        resolution: &str,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE center_calls SET state = ?, resolution = ?, finished_at = ? WHERE msgid = ?",
        )
        .bind(state.as_str())
        .bind(resolution)
        .bind(fmt_time(now))
        .bind(msgid)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound(format!("center call {msgid}")));
        }
        append_in(
            &mut tx,
            self.key(),
            actor,
            "call.resolve",
            &serde_json::json!({"msgid": msgid, "state": state.as_str(), "resolution": resolution}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn call(&self, msgid: &str) -> Result<Option<CenterCall>> {
        let r = sqlx::query(&format!("SELECT {COLS} FROM center_calls WHERE msgid = ?"))
            .bind(msgid)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| row_to_call(self.key(), &r)).transpose()
    }

    /// Calls of one checkout, oldest first.
    pub async fn calls_of_checkout(&self, checkout_id: &str) -> Result<Vec<CenterCall>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM center_calls WHERE checkout_id = ? ORDER BY created_at, rowid"
        ))
        .bind(checkout_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| row_to_call(self.key(), r)).collect()
    }

    /// Calls whose outcome is unknown (pending / sent / in_doubt) for the given
    /// transaction numbers, oldest first.
    pub async fn open_calls(&self, infnos: &[&str]) -> Result<Vec<CenterCall>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM center_calls WHERE state IN ('pending', 'sent', 'in_doubt') ORDER BY created_at, rowid"
        ))
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let c = row_to_call(self.key(), r)?;
            if infnos.is_empty() || infnos.contains(&c.infno.as_str()) {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// Count of calls by state (for status screens and tests).
    pub async fn call_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT infno, state, COUNT(*) FROM center_calls GROUP BY infno, state ORDER BY infno, state",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect())
    }
}
