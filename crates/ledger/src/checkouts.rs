//! Checkouts, fee lines, settlements, payments, adjustments and receipts.
use chrono::NaiveDateTime;
use money::Fen;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::audit::append_in;
use crate::error::{Error, Result};
use crate::{fmt_time, CheckoutMode, CheckoutState, Ledger};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts-rs", derive(ts_rs::TS), ts(export))]
pub enum PaymentChannel {
    /// 统筹 and other funds.
    Fund,
    /// 个人账户.
    Account,
    /// 共济 (family mutual aid).
    MutualAid,
    /// 医院负担.
    Hospital,
    /// 现金.
    Cash,
    /// 银行卡.
    Card,
}

impl PaymentChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentChannel::Fund => "fund",
            PaymentChannel::Account => "account",
            PaymentChannel::MutualAid => "mutual_aid",
            PaymentChannel::Hospital => "hospital",
            PaymentChannel::Cash => "cash",
            PaymentChannel::Card => "card",
        }
    }
    pub fn parse(s: &str) -> Result<PaymentChannel> {
        Ok(match s {
            "fund" => PaymentChannel::Fund,
            "account" => PaymentChannel::Account,
            "mutual_aid" => PaymentChannel::MutualAid,
            "hospital" => PaymentChannel::Hospital,
            "cash" => PaymentChannel::Cash,
            "card" => PaymentChannel::Card,
            other => return Err(Error::Invalid(format!("payment channel {other:?}"))),
        })
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            PaymentChannel::Fund => "统筹基金",
            PaymentChannel::Account => "个人账户",
            PaymentChannel::MutualAid => "共济账户",
            PaymentChannel::Hospital => "医院负担",
            PaymentChannel::Cash => "现金",
            PaymentChannel::Card => "银行卡",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPayment {
    pub checkout_id: String,
    pub setl_id: Option<String>,
    pub channel: PaymentChannel,
    /// Negative when money is returned.
    pub amount: Fen,
    pub given: Option<Fen>,
    pub change: Option<Fen>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentRecord {
    pub id: i64,
    #[serde(flatten)]
    pub payment: NewPayment,
    pub created_at: String,
}

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

const CK_COLS: &str = "id, operator_id, state, mode, psn_no, insutype, mdtrt_id, ipt_otp_no, chrg_bchno, setl_id, parent_id, ctx_json, person_enc, created_at, updated_at";

const PAY_COLS: &str =
    "id, checkout_id, setl_id, channel, amount, given, change, reference, note, created_at";

const ST_COLS: &str = "setl_id, checkout_id, msgid, kind, orig_setl_id, psn_no, mdtrt_id, insutype, clr_type, clr_optins, clr_way, medfee_sumamt, fund_pay_sumamt, acct_pay, acct_mulaid_pay, psn_cash_pay, hosp_part_amt, balc, setl_time, cancelled_by, response_json";

fn json_text(v: &Value) -> String {
    v.to_string()
}

fn parse_json(s: String) -> Value {
    serde_json::from_str(&s).unwrap_or(Value::String(s))
}

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

fn row_to_payment(r: &sqlx::sqlite::SqliteRow) -> Result<PaymentRecord> {
    Ok(PaymentRecord {
        id: r.get(0),
        payment: NewPayment {
            checkout_id: r.get(1),
            setl_id: r.get(2),
            channel: PaymentChannel::parse(&r.get::<String, _>(3))?,
            amount: Fen(r.get(4)),
            given: r.get::<Option<i64>, _>(5).map(Fen),
            change: r.get::<Option<i64>, _>(6).map(Fen),
            reference: r.get(7),
            note: r.get(8),
        },
        created_at: r.get(9),
    })
}

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

async fn insert_payment_in(tx: &mut Tx, p: &NewPayment, now: NaiveDateTime) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO payments (checkout_id, setl_id, channel, amount, given, change, reference, note, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&p.checkout_id)
    .bind(&p.setl_id)
    .bind(p.channel.as_str())
    .bind(p.amount.0)
    .bind(p.given.map(|f| f.0))
    .bind(p.change.map(|f| f.0))
    .bind(&p.reference)
    .bind(&p.note)
    .bind(fmt_time(now))
    .execute(&mut **tx)
    .await?
    .last_insert_rowid();
    Ok(id)
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
        // The states filter and the limit run in SQLite (index on state): a year of
        // checkouts is never read to show a day's list.
        let filter = if states.is_empty() {
            String::new()
        } else {
            format!("WHERE state IN ({})", vec!["?"; states.len()].join(", "))
        };
        let sql = format!(
            "SELECT {CK_COLS} FROM checkouts {filter} ORDER BY created_at DESC, rowid DESC LIMIT ?"
        );
        let mut q = sqlx::query(&sql);
        for s in states {
            q = q.bind(s.as_str());
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
                "acct_pay": rec.acct_pay, "psn_cash_pay": rec.psn_cash_pay,
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

    /// Record a payment (cash with change, card with reference, refunds negative)
    /// and, atomically, the checkout's new state.
    pub async fn record_payment(
        &self,
        p: &NewPayment,
        checkout: Option<&CheckoutRecord>,
        actor: &str,
        now: NaiveDateTime,
    ) -> Result<i64> {
        let mut tx = self.write_tx().await?;
        let id = insert_payment_in(&mut tx, p, now).await?;
        append_in(
            &mut tx,
            self.key(),
            actor,
            if p.amount.is_negative() {
                "payment.refund"
            } else {
                "payment.collect"
            },
            &serde_json::json!({
                "checkout": p.checkout_id, "setl_id": p.setl_id, "channel": p.channel.as_str(),
                "amount": p.amount, "given": p.given, "change": p.change, "reference": p.reference,
            }),
            now,
        )
        .await?;
        if let Some(c) = checkout {
            save_checkout_in(self, &mut tx, c, actor, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn payments_of_checkout(&self, checkout_id: &str) -> Result<Vec<PaymentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAY_COLS} FROM payments WHERE checkout_id = ? ORDER BY id"
        ))
        .bind(checkout_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_payment).collect()
    }

    /// Every payment recorded on `day` (yyyy-mm-dd), for the end of day.
    pub async fn payments_on(&self, day: &str) -> Result<Vec<PaymentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAY_COLS} FROM payments WHERE substr(created_at, 1, 10) = ? ORDER BY id"
        ))
        .bind(day)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_to_payment).collect()
    }

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
