//! 电子围栏 at the counter: settlements and refunds that look like misuse of a
//! patient's insurance or of the counter are flagged — never refused — for a
//! supervisor, and each flag is written to the (keyed, append-only) audit log.
//!
//! What is flagged (the thresholds are [`FenceRules`]):
//! - **repeat**: the same person (psn_no) or the same scanned code settled again at
//!   this counter within minutes;
//! - **burst**: many settlements for one person within an hour;
//! - **own refund**: a refund of a settlement the refunding cashier made, or approved
//!   by the supervisor who made it;
//! - **after hours**: a settlement or refund outside the counter's opening hours.
//!
//! One counter sees only its own ledger; the institution-wide view (the same person at
//! two counters) belongs to the hub.

use chrono::{NaiveDateTime, NaiveTime};
use ledger::{CheckoutRecord, CheckoutState};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{ctx_of, Engine, Operator, Result};

/// What kind of flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts-rs", derive(ts_rs::TS), ts(export))]
pub enum FenceKind {
    Repeat,
    Burst,
    OwnRefund,
    AfterHours,
}

impl FenceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FenceKind::Repeat => "repeat",
            FenceKind::Burst => "burst",
            FenceKind::OwnRefund => "own_refund",
            FenceKind::AfterHours => "after_hours",
        }
    }

    pub fn parse(s: &str) -> Option<FenceKind> {
        [
            FenceKind::Repeat,
            FenceKind::Burst,
            FenceKind::OwnRefund,
            FenceKind::AfterHours,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            FenceKind::Repeat => "同一参保人或同一医保码短时间内重复结算",
            FenceKind::Burst => "同一参保人一小时内多次结算",
            FenceKind::OwnRefund => "退费涉及本人办理的结算",
            FenceKind::AfterHours => "非营业时间结算或退费",
        }
    }
}

/// One flag, as the supervisor sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FenceFlag {
    pub kind: FenceKind,
    pub checkout_id: String,
    pub operator: String,
    pub time: String,
    pub detail: String,
}

/// The thresholds.
#[derive(Debug, Clone)]
pub struct FenceRules {
    /// A second settlement of one person (or one code) within this many minutes.
    pub repeat_minutes: i64,
    /// This many settlements of one person within `burst_minutes` …
    pub burst_count: usize,
    pub burst_minutes: i64,
    /// The counter's opening hours (local time); outside them, everything is flagged.
    pub opens: NaiveTime,
    pub closes: NaiveTime,
}

impl Default for FenceRules {
    fn default() -> FenceRules {
        FenceRules {
            repeat_minutes: 10,
            burst_count: 3,
            burst_minutes: 60,
            opens: NaiveTime::from_hms_opt(7, 0, 0).expect("time"),
            closes: NaiveTime::from_hms_opt(22, 0, 0).expect("time"),
        }
    }
}

fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let s = s.get(..19)?;
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()
}

impl Engine {
    /// After a settlement was booked: flag it if it looks wrong (see the module doc).
    pub(crate) async fn fence_after_settle(&self, op: &Operator, rec: &CheckoutRecord) {
        if let Err(e) = self.fence_settle_inner(op, rec).await {
            tracing::warn!("电子围栏: {}", e.message);
        }
    }

    async fn fence_settle_inner(&self, op: &Operator, rec: &CheckoutRecord) -> Result<()> {
        let rules = &self.cfg.fence;
        let now = self.now();
        let mut flags = Vec::new();
        let code: Option<String> = ctx_of(rec, "qr_sm3");
        // Only the minutes the rules look at are read (not the day, on every settlement).
        let window = rules.repeat_minutes.max(rules.burst_minutes);
        let others: Vec<CheckoutRecord> = self
            .ledger
            .checkouts_since(
                &[
                    CheckoutState::Settled,
                    CheckoutState::Done,
                    CheckoutState::Held,
                ],
                now - chrono::Duration::minutes(window),
                300,
            )
            .await?
            .into_iter()
            .filter(|r| r.id != rec.id)
            .filter(|r| {
                r.psn_no.is_some() && r.psn_no == rec.psn_no
                    || code.is_some() && ctx_of::<String>(r, "qr_sm3") == code
            })
            .collect();
        let within = |r: &CheckoutRecord, minutes: i64| {
            parse_time(&r.updated_at).is_some_and(|t| now - t <= chrono::Duration::minutes(minutes))
        };
        if let Some(prev) = others.iter().find(|r| within(r, rules.repeat_minutes)) {
            flags.push((
                FenceKind::Repeat,
                format!(
                    "{} 分钟内已结算过一次（收费记录 {}，收费员 {}）",
                    rules.repeat_minutes,
                    &prev.id[..8.min(prev.id.len())],
                    prev.operator_id
                ),
            ));
        }
        let burst = others
            .iter()
            .filter(|r| within(r, rules.burst_minutes))
            .count()
            + 1;
        if burst >= rules.burst_count {
            flags.push((
                FenceKind::Burst,
                format!("{} 分钟内第 {burst} 次结算", rules.burst_minutes),
            ));
        }
        if !self.within_hours(now) {
            flags.push((
                FenceKind::AfterHours,
                format!("结算时间 {}", now.format("%H:%M")),
            ));
        }
        for (kind, detail) in flags {
            self.flag(op, &rec.id, kind, &detail).await?;
        }
        Ok(())
    }

    /// After a refund: flag a refund of one's own settlement (by the refunding cashier
    /// or the approving supervisor), and one outside the opening hours.
    pub(crate) async fn fence_after_refund(
        &self,
        op: &Operator,
        rec: &CheckoutRecord,
        approver: &str,
    ) {
        let mut flags = Vec::new();
        if rec.operator_id == op.id || rec.operator_id == approver {
            flags.push((
                FenceKind::OwnRefund,
                format!(
                    "结算由 {} 办理；退费由 {}，主管 {} 确认",
                    rec.operator_id, op.id, approver
                ),
            ));
        }
        let now = self.now();
        if !self.within_hours(now) {
            flags.push((
                FenceKind::AfterHours,
                format!("退费时间 {}", now.format("%H:%M")),
            ));
        }
        for (kind, detail) in flags {
            if let Err(e) = self.flag(op, &rec.id, kind, &detail).await {
                tracing::warn!("电子围栏: {}", e.message);
            }
        }
    }

    fn within_hours(&self, now: NaiveDateTime) -> bool {
        let r = &self.cfg.fence;
        let t = now.time();
        t >= r.opens && t < r.closes
    }

    async fn flag(
        &self,
        op: &Operator,
        checkout_id: &str,
        kind: FenceKind,
        detail: &str,
    ) -> Result<()> {
        tracing::warn!(
            kind = kind.as_str(),
            checkout = checkout_id,
            "电子围栏: {detail}"
        );
        self.ledger
            .audit(
                &op.id,
                &format!("fence.{}", kind.as_str()),
                &json!({"checkout": checkout_id, "detail": detail}),
                self.now(),
            )
            .await?;
        Ok(())
    }

    /// The flags raised since `since` (the day's, for the supervisor's screen).
    pub async fn fence_flags(&self, since: &str) -> Result<Vec<FenceFlag>> {
        Ok(flags(&self.ledger, since).await?)
    }
}

/// The flags in a ledger's audit log since `since` (`YYYY-MM-DD[ HH:MM:SS]`).
pub async fn flags(l: &ledger::Ledger, since: &str) -> ledger::Result<Vec<FenceFlag>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = l.audit_entries(after, 500).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in &page {
            let Some(kind) = e.action.strip_prefix("fence.").and_then(FenceKind::parse) else {
                continue;
            };
            if e.time.as_str() < since {
                continue;
            }
            out.push(FenceFlag {
                kind,
                checkout_id: e.detail["checkout"].as_str().unwrap_or("").to_string(),
                operator: e.actor.clone(),
                time: e.time.chars().take(19).collect(),
                detail: e.detail["detail"].as_str().unwrap_or("").to_string(),
            });
        }
    }
    Ok(out)
}
