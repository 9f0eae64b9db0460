//! The `checkouts` table: one row per checkout (state, mode, the center's ids, step context, the sealed person).
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, json_text, parse_json, CheckoutMode, CheckoutState, Ledger};

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// One checkout as stored. `state` and `mode` are typed (their text forms are the columns);
/// `ctx` holds non-personal step data, `person` the resolved person (encrypted at rest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    pub id: String,
    pub operator_id: String,
    pub state: CheckoutState,
    pub mode: CheckoutMode,
    pub psn_no: Option<String>,
    pub insutype: Option<String>,
    pub mdtrt_id: Option<String>,
    pub ipt_otp_no: Option<String>,
    pub chrg_bchno: Option<String>,
    pub setl_id: Option<String>,
    pub parent_id: Option<String>,
    pub ctx: Value,
    pub person: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl CheckoutRecord {
    pub fn new(id: &str, operator_id: &str, now: NaiveDateTime) -> CheckoutRecord {
        CheckoutRecord {
            id: id.into(),
            operator_id: operator_id.into(),
            state: CheckoutState::New,
            mode: CheckoutMode::Online,
            psn_no: None,
            insutype: None,
            mdtrt_id: None,
            ipt_otp_no: None,
            chrg_bchno: None,
            setl_id: None,
            parent_id: None,
            ctx: Value::Object(Default::default()),
            person: None,
            created_at: fmt_time(now),
            updated_at: fmt_time(now),
        }
    }
}

const CK_COLS: &str = "id, operator_id, state, mode, psn_no, insutype, mdtrt_id, ipt_otp_no, chrg_bchno, setl_id, parent_id, ctx_json, person_enc, created_at, updated_at";

pub(crate) async fn save_checkout_in(
    ledger: &Ledger,
    tx: &mut Tx,
    rec: &CheckoutRecord,
    actor: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let prev_state: Option<String> = sqlx::query_scalar("SELECT state FROM checkouts WHERE id = ?")
        .bind(&rec.id)
        .fetch_optional(&mut **tx)
        .await?;
    let person = rec
        .person
        .as_ref()
        .map(|p| ledger.key().seal(&p.to_string()));
    sqlx::query(&format!(
        "INSERT INTO checkouts ({CK_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, mode = excluded.mode,
           psn_no = excluded.psn_no, insutype = excluded.insutype, mdtrt_id = excluded.mdtrt_id,
           ipt_otp_no = excluded.ipt_otp_no, chrg_bchno = excluded.chrg_bchno,
           setl_id = excluded.setl_id, parent_id = excluded.parent_id, ctx_json = excluded.ctx_json,
           person_enc = excluded.person_enc, updated_at = excluded.updated_at"
    ))
    .bind(&rec.id)
    .bind(&rec.operator_id)
    .bind(rec.state.as_str())
    .bind(rec.mode.as_str())
    .bind(&rec.psn_no)
    .bind(&rec.insutype)
    .bind(&rec.mdtrt_id)
    .bind(&rec.ipt_otp_no)
    .bind(&rec.chrg_bchno)
    .bind(&rec.setl_id)
    .bind(&rec.parent_id)
    .bind(ledger.key().seal_text(&json_text(&rec.ctx)))
    .bind(person)
    .bind(&rec.created_at)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.message().contains("FOREIGN KEY") => Error::Invalid(format!(
            "checkout {}: unknown operator {} or parent",
            rec.id, rec.operator_id
        )),
        other => Error::Db(other),
    })?;
    if prev_state.as_deref() != Some(rec.state.as_str()) {
        append_in(
            tx,
            ledger.key(),
            actor,
            "checkout.state",
            &serde_json::json!({"checkout": rec.id, "from": prev_state, "to": rec.state, "mode": rec.mode}),
            now,
        )
        .await?;
    }
    Ok(())
}

impl Ledger {
    /// Insert or update a checkout (a state change is audited). Written before the
    /// step it announces is acted on.
    pub async fn save_checkout(
        &self,
        rec: &CheckoutRecord,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<()> {
        let mut tx = self.write_tx().await?;
        save_checkout_in(self, &mut tx, rec, actor, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn checkout(&self, id: &str) -> Result<Option<CheckoutRecord>> {
        let r = sqlx::query(&format!("SELECT {CK_COLS} FROM checkouts WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        r.map(|r| self.row_to_checkout(&r)).transpose()
    }

    /// Checkouts in one of `states` (all when empty), newest first, at most `limit`.
    pub async fn checkouts(
        &self,
        states: &[CheckoutState],
        limit: i64,
    ) -> Result<Vec<CheckoutRecord>> {
        self.query_checkouts(states, None, limit).await
    }

    /// Like [`Ledger::checkouts`], only those changed at or after `since` (local time
    /// text): what happened in the last minutes, without reading the day.
    pub async fn checkouts_since(
        &self,
        states: &[CheckoutState],
        since: NaiveDateTime,
        limit: i64,
    ) -> Result<Vec<CheckoutRecord>> {
        self.query_checkouts(states, Some(fmt_time(since)), limit)
            .await
    }

    async fn query_checkouts(
        &self,
        states: &[CheckoutState],
        since: Option<String>,
        limit: i64,
    ) -> Result<Vec<CheckoutRecord>> {
        // The filters and the limit run in SQLite (index on state): a year of checkouts
        // is never read to show a day's list.
        let mut conds = Vec::new();
        if !states.is_empty() {
            conds.push(format!("state IN ({})", vec!["?"; states.len()].join(", ")));
        }
        if since.is_some() {
            conds.push("updated_at >= ?".to_string());
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        let sql = format!(
            "SELECT {CK_COLS} FROM checkouts {filter} ORDER BY created_at DESC, rowid DESC LIMIT ?"
        );
        let mut q = sqlx::query(&sql);
        for s in states {
            q = q.bind(s.as_str());
        }
        if let Some(t) = &since {
            q = q.bind(t);
        }
        let rows = q.bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(|r| self.row_to_checkout(r)).collect()
    }

    fn row_to_checkout(&self, r: &sqlx::sqlite::SqliteRow) -> Result<CheckoutRecord> {
        let person: Option<String> = r.get(12);
        let person = match person {
            Some(p) => Some(parse_json(self.key().open(&p)?)),
            None => None,
        };
        Ok(CheckoutRecord {
            id: r.get(0),
            operator_id: r.get(1),
            state: CheckoutState::parse(&r.get::<String, _>(2))?,
            mode: CheckoutMode::parse(&r.get::<String, _>(3))?,
            psn_no: r.get(4),
            insutype: r.get(5),
            mdtrt_id: r.get(6),
            ipt_otp_no: r.get(7),
            chrg_bchno: r.get(8),
            setl_id: r.get(9),
            parent_id: r.get(10),
            ctx: parse_json(self.key().open_text(&r.get::<String, _>(11))?),
            person,
            created_at: r.get(13),
            updated_at: r.get(14),
        })
    }
}
