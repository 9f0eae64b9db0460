//! The `payments` table: money by channel (fund, account, 共济, hospital, cash, card), refunds negative.
use chrono::NaiveDateTime;
use money::Fen;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::audit::append_in;
use crate::checkouts::save_checkout_in;
use crate::error::{Error, Result};
use crate::{fmt_time, CheckoutRecord, Ledger};

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

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

const PAY_COLS: &str =
    "id, checkout_id, setl_id, channel, amount, given, change, reference, note, created_at";

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

pub(crate) async fn insert_payment_in(
    tx: &mut Tx,
    p: &NewPayment,
    now: NaiveDateTime,
) -> Result<i64> {
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
}
