//! The `shifts` and `shift_events` tables (交班): open with a float, cash in and out,
//! handovers, close with a blind count. Every step is in the audit log (and so reaches
//! the institution's hub).
use chrono::NaiveDateTime;
use money::Fen;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, Ledger};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    pub id: String,
    pub opened_by: String,
    pub opened_at: String,
    pub float: Fen,
    pub on_duty: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<String>,
    pub counted: Option<Fen>,
}

/// A step of a shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftEventKind {
    CashIn,
    CashOut,
    Handover,
}

impl ShiftEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ShiftEventKind::CashIn => "cash_in",
            ShiftEventKind::CashOut => "cash_out",
            ShiftEventKind::Handover => "handover",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftEvent {
    pub kind: String,
    pub amount: Fen,
    pub note: String,
    pub by: String,
    pub to: Option<String>,
    pub at: String,
}

/// One cashier's money through one channel in a time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelTotal {
    pub operator_id: String,
    pub channel: String,
    /// Money in (collected) and out (refunded, as a positive amount), and how many.
    pub collected: Fen,
    pub refunded: Fen,
    pub count: i64,
    pub refunds: i64,
}

const SHIFT_COLS: &str =
    "id, opened_by, opened_at, float_fen, on_duty, closed_by, closed_at, counted_fen";

fn shift_of(r: &sqlx::sqlite::SqliteRow) -> Shift {
    Shift {
        id: r.get(0),
        opened_by: r.get(1),
        opened_at: r.get(2),
        float: Fen(r.get(3)),
        on_duty: r.get(4),
        closed_by: r.get(5),
        closed_at: r.get(6),
        counted: r.get::<Option<i64>, _>(7).map(Fen),
    }
}

impl Ledger {
    /// Open a shift (refused while one is open).
    pub async fn open_shift(&self, by: &str, float: Fen, now: NaiveDateTime) -> Result<Shift> {
        if float.is_negative() {
            return Err(Error::Invalid("备用金不能为负".into()));
        }
        let mut tx = self.write_tx().await?;
        let open: Option<String> =
            sqlx::query_scalar("SELECT id FROM shifts WHERE closed_at IS NULL")
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(id) = open {
            return Err(Error::Invalid(format!("已有未交班的班次 {id}：请先交班")));
        }
        let id = format!("SH{}", now.format("%Y%m%d%H%M%S%3f"));
        sqlx::query("INSERT INTO shifts (id, opened_by, opened_at, float_fen, on_duty) VALUES (?, ?, ?, ?, ?)")
            .bind(&id)
            .bind(by)
            .bind(fmt_time(now))
            .bind(float.0)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        append_in(
            &mut tx,
            self.key(),
            by,
            "shift.open",
            &json!({"shift": id, "float": float}),
            now,
        )
        .await?;
        tx.commit().await?;
        self.shift(&id).await?.ok_or_else(|| Error::NotFound(id))
    }

    pub async fn shift(&self, id: &str) -> Result<Option<Shift>> {
        let r = sqlx::query(&format!("SELECT {SHIFT_COLS} FROM shifts WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(r.as_ref().map(shift_of))
    }

    /// The open shift, if any.
    pub async fn open_shift_now(&self) -> Result<Option<Shift>> {
        let r = sqlx::query(&format!(
            "SELECT {SHIFT_COLS} FROM shifts WHERE closed_at IS NULL"
        ))
        .fetch_optional(self.pool())
        .await?;
        Ok(r.as_ref().map(shift_of))
    }

    /// Record cash put in or taken out, or a handover (then `to` takes the counter).
    #[allow(clippy::too_many_arguments)]
    pub async fn shift_event(
        &self,
        shift_id: &str,
        kind: ShiftEventKind,
        amount: Fen,
        note: &str,
        by: &str,
        to: Option<&str>,
        now: NaiveDateTime,
    ) -> Result<()> {
        if amount.is_negative() {
            return Err(Error::Invalid("金额不能为负".into()));
        }
        let mut tx = self.write_tx().await?;
        let open: Option<String> =
            sqlx::query_scalar("SELECT id FROM shifts WHERE id = ? AND closed_at IS NULL")
                .bind(shift_id)
                .fetch_optional(&mut *tx)
                .await?;
        if open.is_none() {
            return Err(Error::Invalid(format!(
                "班次 {shift_id} 不是当前未交班的班次"
            )));
        }
        sqlx::query("INSERT INTO shift_events (shift_id, kind, amount, note, by_op, to_op, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
            .bind(shift_id)
            .bind(kind.as_str())
            .bind(amount.0)
            .bind(note)
            .bind(by)
            .bind(to)
            .bind(fmt_time(now))
            .execute(&mut *tx)
            .await?;
        if let (ShiftEventKind::Handover, Some(to)) = (kind, to) {
            sqlx::query("UPDATE shifts SET on_duty = ? WHERE id = ?")
                .bind(to)
                .bind(shift_id)
                .execute(&mut *tx)
                .await?;
        }
        append_in(
            &mut tx,
            self.key(),
            by,
            &format!("shift.{}", kind.as_str()),
            &json!({"shift": shift_id, "amount": amount, "note": note, "to": to}),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn shift_events(&self, shift_id: &str) -> Result<Vec<ShiftEvent>> {
        let rows = sqlx::query("SELECT kind, amount, note, by_op, to_op, at FROM shift_events WHERE shift_id = ? ORDER BY id")
            .bind(shift_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows
            .iter()
            .map(|r| ShiftEvent {
                kind: r.get(0),
                amount: Fen(r.get(1)),
                note: r.get(2),
                by: r.get(3),
                to: r.get(4),
                at: r.get(5),
            })
            .collect())
    }

    /// Close the shift with the counted cash and its report (kept with it).
    pub async fn close_shift(
        &self,
        shift_id: &str,
        by: &str,
        counted: Fen,
        report: &serde_json::Value,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE shifts SET closed_by = ?, closed_at = ?, counted_fen = ?, report_json = ? WHERE id = ? AND closed_at IS NULL",
        )
        .bind(by)
        .bind(fmt_time(now))
        .bind(counted.0)
        .bind(report.to_string())
        .bind(shift_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(Error::Invalid(format!("班次 {shift_id} 已交班或不存在")));
        }
        append_in(&mut tx, self.key(), by, "shift.close", report, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Each cashier's money per channel between two times (the payments of their checkouts).
    pub async fn channel_totals(&self, from: &str, to: &str) -> Result<Vec<ChannelTotal>> {
        let rows = sqlx::query(
            "SELECT c.operator_id, p.channel,
                    COALESCE(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END), 0),
                    SUM(CASE WHEN p.amount > 0 THEN 1 ELSE 0 END),
                    SUM(CASE WHEN p.amount < 0 THEN 1 ELSE 0 END)
               FROM payments p JOIN checkouts c ON c.id = p.checkout_id
              WHERE p.created_at >= ? AND p.created_at <= ?
              GROUP BY c.operator_id, p.channel ORDER BY c.operator_id, p.channel",
        )
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| ChannelTotal {
                operator_id: r.get(0),
                channel: r.get(1),
                collected: Fen(r.get(2)),
                refunded: Fen(r.get(3)),
                count: r.get(4),
                refunds: r.get(5),
            })
            .collect())
    }
}
