//! Offline checkouts, the queue, and the recovery of interrupted calls.

use billing::{BillLine, PersonFunds, RegionKind, Situation, YearUsage};
use chrono::Duration;
use ledger::{CallState, CheckoutMode, CheckoutRecord, CheckoutState, OutboxItem};
use money::Fen;
use nhsa::{Caller, Infno};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::flow::{advance, check, Pay};
use crate::machine::{Event, Prior};
use crate::view::{self, CheckoutView};
use crate::{
    ctx_of, set_ctx, CheckoutError, Engine, ErrorCode, Job, OfflineMode, Operator, Result,
};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RecoverReport {
    /// In-doubt calls reversed with 2601 (or found never received).
    pub reversed: Vec<String>,
    /// Answers that had arrived but were not yet booked, now booked.
    pub adopted: Vec<String>,
    /// Still unknown (the center cannot be reached); queued for reversal.
    pub still_in_doubt: Vec<String>,
    /// Checkouts put back to the step before the interrupted one.
    pub rewound: Vec<String>,
    /// Calls left alone because a live step of this process is still waiting on them.
    #[serde(default)]
    pub in_flight: Vec<String>,
    /// Items that could not be resolved now, with the reason (the others were).
    #[serde(default)]
    pub failed: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncReport {
    pub done: Vec<String>,
    pub failed: Vec<(String, String)>,
    /// Stopped because the center is unreachable; retried later.
    pub deferred: Option<(String, String)>,
    pub adjustments: Vec<(String, Fen)>,
}

impl Engine {
    /// The billing engine's estimate of what the patient pays, without the center.
    pub fn estimate(&self, lines: &[BillLine], insutype: &str) -> billing::Settlement {
        let s = Situation {
            insutype,
            med_type: "11",
            retired: false,
            region: RegionKind::Local,
            hosp_lv: self.cfg.hosp_lv,
            acct_used: false,
        };
        let policy = self
            .cfg
            .policy
            .policy_for(&s, YearUsage::default())
            .unwrap_or(billing::Policy {
                deductible_remaining: Fen::ZERO,
                ratio: money::Ratio::ZERO,
                fund_cap_remaining: Fen::ZERO,
                account_scope: Default::default(),
                acct_used: false,
                acct_pay_limit: None,
                other_funds: vec![],
                pool_fund_type: "310100".into(),
            });
        billing::split(
            lines,
            &PersonFunds {
                insutype: insutype.into(),
                balc: Fen::ZERO,
                family_pool: Fen::ZERO,
            },
            &policy,
        )
    }

    /// The center is unreachable: collect now (the whole bill, or the estimated
    /// self-pay part) and queue the settlement under the patient's 身份证.
    pub async fn offline_collect(
        &self,
        op: &Operator,
        id: &str,
        certno: &str,
        name: &str,
        pay: Pay,
    ) -> Result<CheckoutView> {
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::OfflineCollected { queued: true })
            .map_err(|_| CheckoutError::state("当前步骤不能改为离线收费"))?;
        let lines = view::lines_of(&rec);
        if lines.is_empty() {
            return Err(CheckoutError::input("账单没有收费项目"));
        }
        let certno = certno.trim().to_uppercase();
        let has_id = !certno.is_empty();
        if has_id && !voucher::id_checksum_ok(&certno) {
            return Err(CheckoutError::input(
                "身份证号码有误，请核对；不补医保结算时可留空",
            ));
        }
        let total: Fen = lines.iter().map(BillLine::amount).sum();
        let mode = if has_id {
            self.cfg.offline_mode
        } else {
            OfflineMode::SelfPayAll
        };
        let insutype = rec.insutype.clone().unwrap_or_else(|| "310".into());
        let due = match mode {
            OfflineMode::SelfPayAll => total,
            OfflineMode::Estimate => {
                // The offline estimate on the synced catalogue's classes and caps.
                let synced = self.with_synced_catalogue(lines.clone()).await?;
                let e = self.estimate(&synced, &insutype);
                set_ctx(&mut rec, "estimate", estimate_info(&e));
                e.psn_cash_pay
            }
        };
        let p = pay.payment(id, None, due, Some("离线收费"))?;
        rec.mode = CheckoutMode::Offline;
        set_ctx(&mut rec, "offline_mode", json!(mode));
        set_ctx(&mut rec, "collected", json!(due));
        set_ctx(
            &mut rec,
            "offline_at",
            json!(self.now().format("%Y-%m-%d %H:%M:%S").to_string()),
        );
        advance(&mut rec, Event::OfflineCollected { queued: has_id })?;
        if has_id {
            let mut person = rec.person.clone().unwrap_or_else(|| json!({}));
            person["offline_certno"] = json!(certno);
            person["offline_name"] = json!(name.trim());
            rec.person = Some(person);
        }
        self.ledger
            .record_payment(&p, Some(&rec), &op.id, self.now())
            .await?;
        if has_id {
            let job = Job::Settle {
                checkout_id: id.to_string(),
            };
            let item = self.enqueue(op, &job, Some(&rec)).await?;
            set_ctx(&mut rec, "outbox_id", json!(item.id));
            self.save(op, &mut rec).await?;
        }
        self.view(id).await
    }

    /// Replay the queue in order, each item once. Stops at the first item the
    /// center cannot be reached for (retried later with backoff).
    /// `force` (a cashier's 重试 or `yibao queue sync`) ignores the backoff times.
    pub async fn sync_queue(&self, op: &Operator, force: bool) -> Result<SyncReport> {
        self.queue_his_notices(op).await?;
        self.sync_leased(op, force, None).await
    }

    /// Queue the HIS notices that are due and send those (after a settlement or a
    /// refund, so the HIS hears at once); the center's jobs wait for the replay.
    pub async fn notify_his(&self, op: &Operator) -> Result<SyncReport> {
        if self.queue_his_notices(op).await? == 0 {
            return Ok(SyncReport::default());
        }
        let mut all = self.sync_leased(op, true, Some("his_paid")).await?;
        let r = self.sync_leased(op, true, Some("his_refunded")).await?;
        all.done.extend(r.done);
        all.failed.extend(r.failed);
        Ok(all)
    }

    /// Send the queued 9002 sign-outs now (at sign-out), and nothing else: the other
    /// items wait for the replay of whoever signs in next.
    pub async fn send_sign_outs(&self, op: &Operator) -> Result<SyncReport> {
        self.sync_leased(op, true, Some("signout")).await
    }

    /// One drainer at a time (the outbox lease); `only`: items of this kind alone.
    async fn sync_leased(
        &self,
        op: &Operator,
        force: bool,
        only: Option<&str>,
    ) -> Result<SyncReport> {
        let holder = format!("{}-{}", op.id, uuid::Uuid::new_v4());
        let now = self.now();
        if !self
            .ledger
            .acquire_outbox_lease(&holder, now, now + Duration::minutes(5))
            .await?
        {
            return Ok(SyncReport::default());
        }
        let r = self.sync_filtered(op, force, only).await;
        self.ledger.release_outbox_lease(&holder).await?;
        r
    }

    async fn sync_filtered(
        &self,
        op: &Operator,
        force: bool,
        only: Option<&str>,
    ) -> Result<SyncReport> {
        let mut report = SyncReport::default();
        let now_text = self.now().format("%Y-%m-%d %H:%M:%S%.3f").to_string();
        // HIS notices are a lane of their own, in order among themselves: a HIS that is
        // down holds up its notices, never the center's jobs (and the other way round).
        let mut his_waits = false;
        for item in self.ledger.outbox(false).await? {
            if !matches!(item.state, ledger::OutboxState::Queued) {
                continue;
            }
            if only.is_some_and(|k| item.kind != k) {
                continue;
            }
            let his = item.kind.starts_with("his_");
            if his && his_waits {
                continue;
            }
            if !force && item.next_attempt_at > now_text {
                if his {
                    his_waits = true;
                    continue;
                }
                // Strict order: a later item never overtakes one waiting for its retry.
                break;
            }
            let item = self.ledger.outbox_attempt(&item.id, self.now()).await?;
            match self.run_item(op, &item).await {
                Ok(result) => {
                    let rec = match &item.checkout_id {
                        Some(c) => self.ledger.checkout(c).await?,
                        None => None,
                    };
                    self.ledger
                        .outbox_done(&item.id, &result, rec.as_ref(), &op.id, self.now())
                        .await?;
                    if let Some(adj) = result
                        .get("adjustment")
                        .and_then(|a| serde_json::from_value::<Fen>(a.clone()).ok())
                    {
                        if adj != Fen::ZERO {
                            report
                                .adjustments
                                .push((item.checkout_id.clone().unwrap_or_default(), adj));
                        }
                    }
                    report.done.push(item.id.clone());
                }
                Err(e)
                    if e.is_network()
                        || e.kind == ErrorCode::InDoubt
                        || e.kind == ErrorCode::HisUnreachable =>
                {
                    let wait = 5i64 << (item.attempts - 1).clamp(0, 6);
                    self.ledger
                        .outbox_retry_later(
                            &item.id,
                            &format!("{}：{}", e.message, e.detail.clone().unwrap_or_default()),
                            self.now() + Duration::seconds(wait.min(300)),
                            self.now(),
                        )
                        .await?;
                    if his {
                        his_waits = true;
                        continue;
                    }
                    report.deferred = Some((item.id.clone(), e.message.clone()));
                    break;
                }
                Err(e) => {
                    let msg = format!("{}（{}）", e.message, e.detail.clone().unwrap_or_default());
                    self.ledger
                        .outbox_fail(&item.id, &msg, &op.id, self.now())
                        .await?;
                    report.failed.push((item.id.clone(), msg));
                }
            }
        }
        Ok(report)
    }

    async fn run_item(&self, op: &Operator, item: &OutboxItem) -> Result<Value> {
        match Job::of(item).map_err(CheckoutError::input)? {
            Job::Reverse {
                omsgid,
                oinfno,
                psn_no,
                insuplc,
            } => {
                if !self
                    .reverse(op, &omsgid, &oinfno, &psn_no, &insuplc)
                    .await?
                {
                    return Err(CheckoutError::new(
                        ErrorCode::Network,
                        "冲正未完成：连接不上医保中心",
                        "网络恢复后自动重试",
                    ));
                }
                if let Some(cid) = &item.checkout_id {
                    if let Ok(_claim) = self.ledger.claim(cid) {
                        let mut rec = self.load(cid).await?;
                        // Only when no other 2207/2208 of it is still open.
                        let open = self.ledger.calls_of_checkout(cid).await?.iter().any(|c| {
                            matches!(c.infno.as_str(), "2207" | "2208") && c.state.is_open()
                        });
                        if !open {
                            self.undo_in_doubt(op, &mut rec).await?;
                        }
                    }
                }
                Ok(json!({"reversed": omsgid}))
            }
            Job::SignOut {
                sign_no,
                operator_id,
                operator_name,
            } => {
                let whose = if operator_id.is_empty() {
                    op.clone()
                } else {
                    Operator {
                        id: operator_id,
                        name: operator_name,
                    }
                };
                // The envelope carries the sign_no being closed: looking one up for the
                // operator (as other calls do) would sign them in again first (9001).
                let caller = Caller {
                    opter: whose.id.clone(),
                    opter_name: whose.name.clone(),
                    sign_no: sign_no.clone(),
                    ..Default::default()
                };
                let input = nhsa::inputs::sign_out(&sign_no, &whose.id);
                match self
                    .send_recorded(&whose, &caller, None, None, Infno::SignOut, None, input)
                    .await?
                {
                    (_, crate::Sent::Ok(r)) => Ok(r.output),
                    (_, crate::Sent::Err(e)) => Err(CheckoutError::center(&e)),
                }
            }
            Job::Settle { checkout_id } => self.replay_settlement(op, &checkout_id).await,
            job @ (Job::HisPaid(_) | Job::HisRefunded(_)) => self.send_his(&job).await,
        }
    }

    /// An offline checkout settled now: 1101 by 身份证 → 2201 … 2207; the
    /// difference to what was collected becomes an adjustment.
    async fn replay_settlement(&self, op: &Operator, checkout_id: &str) -> Result<Value> {
        if checkout_id.is_empty() {
            return Err(CheckoutError::input("队列项缺少收费记录"));
        }
        let cid = checkout_id.to_string();
        let rec = self.load(&cid).await?;
        if let Some(setl) = &rec.setl_id {
            return Ok(json!({"setl_id": setl, "note": "already settled"}));
        }
        let certno = rec
            .person
            .as_ref()
            .and_then(|p| p.get("offline_certno"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = rec
            .person
            .as_ref()
            .and_then(|p| p.get("offline_name"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let collected: Fen = ctx_of(&rec, "collected").unwrap_or(Fen::ZERO);
        let lines = view::lines_of(&rec);
        let mut r = rec.clone();
        // An earlier replay's 2207 is still unresolved: reverse it first. No second
        // 2207 is ever sent for a checkout while an earlier one may stand.
        if r.state == CheckoutState::Settling {
            if !self.reverse_open_calls(op, &r, "2207").await? {
                return Err(CheckoutError::new(
                    ErrorCode::InDoubt,
                    "上次补传的结算结果未知，冲正完成前不再结算",
                    "网络恢复后自动重试",
                ));
            }
            advance(&mut r, Event::SettleUndone { offline: true })?;
        }
        // Keep the collected state: walk the online steps on the same record.
        advance(&mut r, Event::ReplayStarted)?;
        self.save(op, &mut r).await?;
        let step = async {
            self.resolve_id(op, &cid, &certno, &name).await?;
            self.set_lines(op, &cid, lines).await?;
            self.presettle(op, &cid, true).await?;
            self.settle(op, &cid).await
        }
        .await;
        let v = match step {
            Ok(v) => v,
            Err(e) => {
                // Back to the queued state so the screen keeps showing it as pending;
                // a 2207 in doubt keeps it settling until it is resolved.
                let mut back = self.load(&cid).await?;
                if back.state != CheckoutState::Settling {
                    advance(&mut back, Event::ReplayFailed)?;
                    self.save(op, &mut back).await?;
                }
                return Err(e);
            }
        };
        let cash = v
            .split
            .as_ref()
            .map(|s| s.psn_cash_pay)
            .unwrap_or(Fen::ZERO);
        let adj = cash - collected;
        if adj != Fen::ZERO {
            let reason = if adj < Fen::ZERO {
                format!(
                    "离线收费 {collected} 元，医保结算后个人应付 {cash} 元，应退患者 {} 元",
                    -adj
                )
            } else {
                format!("离线收费 {collected} 元，医保结算后个人应付 {cash} 元，患者应补 {adj} 元")
            };
            self.ledger
                .add_adjustment(&cid, adj, &reason, &op.id, self.now())
                .await?;
        }
        Ok(
            json!({"setl_id": v.setl_id, "psn_cash_pay": cash, "collected": collected, "adjustment": adj}),
        )
    }

    /// End the operator's day at the center (9002): recorded now, sent through
    /// the queue (it can wait when the center is down).
    pub async fn sign_out(&self, op: &Operator) -> Result<()> {
        let now = self.now();
        let Some(s) = self.ledger.sign_in_for(&op.id, now.date()).await? else {
            return Ok(());
        };
        if s.signed_out_at.is_some() {
            return Ok(());
        }
        self.ledger.record_sign_out(&op.id, now.date(), now).await?;
        let job = Job::SignOut {
            sign_no: s.sign_no,
            operator_id: op.id.clone(),
            operator_name: op.name.clone(),
        };
        self.enqueue(op, &job, None).await?;
        Ok(())
    }

    /// Reverse (2601) every open 2207/2208 call of a checkout. `Ok(true)`: none is
    /// left open; `Ok(false)`: the center could not be reached for one of them.
    pub(crate) async fn reverse_open_calls(
        &self,
        op: &Operator,
        rec: &CheckoutRecord,
        infno: &str,
    ) -> Result<bool> {
        let psn = rec.psn_no.clone().unwrap_or_default();
        let insuplc = crate::person_str(rec, "insuplc_admdvs");
        for c in self.ledger.calls_of_checkout(&rec.id).await? {
            if c.infno == infno
                && c.state.is_open()
                && !self.reverse(op, &c.msgid, &c.infno, &psn, &insuplc).await?
            {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A checkout whose 2207/2208 is known to hold nothing at the center goes back
    /// to the step before it.
    pub(crate) async fn undo_in_doubt(
        &self,
        op: &Operator,
        rec: &mut CheckoutRecord,
    ) -> Result<()> {
        let ev = match rec.state {
            CheckoutState::Settling => Event::SettleUndone {
                offline: rec.mode == CheckoutMode::Offline,
            },
            CheckoutState::Refunding => Event::RefundUndone {
                prior: ctx_of(rec, "refund_prior").unwrap_or(Prior::Done),
            },
            _ => return Ok(()),
        };
        advance(rec, ev)?;
        self.save(op, rec).await
    }

    /// Reverse every 2207/2208 whose outcome is unknown, book answers that arrived
    /// but were not booked, rewind interrupted checkouts. Checkouts a live step of
    /// this process is working on are left alone (another process cannot be
    /// working on this ledger: it could not have opened it). One item that cannot be
    /// resolved is reported and the others are still resolved.
    pub async fn recover(&self, op: &Operator) -> Result<RecoverReport> {
        let mut rep = RecoverReport::default();
        for call in self.ledger.open_calls(&["2207", "2208"]).await? {
            let Some(cid) = call.checkout_id.clone() else {
                continue;
            };
            let Ok(_claim) = self.ledger.claim(&cid) else {
                rep.in_flight.push(call.msgid.clone());
                continue;
            };
            if let Err(e) = self.recover_call(op, &cid, &call, &mut rep).await {
                rep.failed.push((call.msgid.clone(), e.to_string()));
            }
        }
        // Answers booked as calls but not as settlements (a crash between the two).
        for s in [CheckoutState::Settling, CheckoutState::Refunding] {
            for rec in self.ledger.checkouts(&[s], 1000).await? {
                let Ok(_claim) = self.ledger.claim(&rec.id) else {
                    rep.in_flight.push(rec.id.clone());
                    continue;
                };
                let id = rec.id.clone();
                if let Err(e) = self.recover_checkout(op, rec, &mut rep).await {
                    rep.failed.push((id, e.to_string()));
                }
            }
        }
        // Outbox items left "in flight" by a crash go back to the queue.
        for item in self.ledger.outbox(false).await? {
            if item.state == ledger::OutboxState::Sending {
                self.ledger
                    .outbox_retry_later(&item.id, "上次处理中断，重新排队", self.now(), self.now())
                    .await?;
            }
        }
        Ok(rep)
    }

    async fn recover_call(
        &self,
        op: &Operator,
        cid: &str,
        call: &ledger::CenterCall,
        rep: &mut RecoverReport,
    ) -> Result<()> {
        let rec = self.load(cid).await?;
        let psn = rec.psn_no.clone().unwrap_or_default();
        let insuplc = crate::person_str(&rec, "insuplc_admdvs");
        if self
            .reverse(op, &call.msgid, &call.infno, &psn, &insuplc)
            .await?
        {
            rep.reversed.push(call.msgid.clone());
            return Ok(());
        }
        let queued = self.ledger.outbox(false).await?.iter().any(|i| {
            i.kind == "reverse"
                && i.payload.get("omsgid").and_then(Value::as_str) == Some(call.msgid.as_str())
        });
        if !queued {
            let job = Job::Reverse {
                omsgid: call.msgid.clone(),
                oinfno: call.infno.clone(),
                psn_no: psn,
                insuplc,
            };
            self.enqueue(op, &job, Some(&rec)).await?;
        }
        rep.still_in_doubt.push(call.msgid.clone());
        Ok(())
    }

    async fn recover_checkout(
        &self,
        op: &Operator,
        mut rec: CheckoutRecord,
        rep: &mut RecoverReport,
    ) -> Result<()> {
        let settling = rec.state == CheckoutState::Settling;
        let infno = if settling { "2207" } else { "2208" };
        let calls = self.ledger.calls_of_checkout(&rec.id).await?;
        let last = calls.iter().rev().find(|c| c.infno == infno);
        match last {
            Some(c) if c.state == CallState::Ok => {
                let output = c
                    .response
                    .as_ref()
                    .and_then(|r| r.get("output"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let booked = if settling {
                    self.adopt_settlement(op, &mut rec, &c.msgid, &output).await
                } else {
                    let orig = rec.setl_id.clone().unwrap_or_default();
                    self.adopt_cancel(op, &mut rec, &c.msgid, &orig, &output)
                        .await
                };
                match booked {
                    Ok(()) => rep.adopted.push(rec.id.clone()),
                    // A success answer that cannot be read: in doubt, so reverse it.
                    Err(e) if e.kind != ErrorCode::Ledger => {
                        let psn = rec.psn_no.clone().unwrap_or_default();
                        let insuplc = crate::person_str(&rec, "insuplc_admdvs");
                        if self.reverse(op, &c.msgid, infno, &psn, &insuplc).await? {
                            rep.reversed.push(c.msgid.clone());
                            let mut fresh = self.load(&rec.id).await?;
                            self.undo_in_doubt(op, &mut fresh).await?;
                            rep.rewound.push(rec.id.clone());
                        } else {
                            rep.still_in_doubt.push(c.msgid.clone());
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
            Some(c) if c.state.is_open() => {}
            _ => {
                self.undo_in_doubt(op, &mut rec).await?;
                rep.rewound.push(rec.id.clone());
            }
        }
        Ok(())
    }
}

fn estimate_info(e: &billing::Settlement) -> Value {
    json!({
        "medfee_sumamt": e.medfee_sumamt, "fulamt_ownpay_amt": e.fulamt_ownpay_amt, "overlmt_selfpay": e.overlmt_selfpay,
        "preselfpay_amt": e.preselfpay_amt, "inscp_scp_amt": e.inscp_scp_amt, "act_pay_dedc": e.act_pay_dedc,
        "hifp_pay": e.hifp_pay, "fund_pay_sumamt": e.fund_pay_sumamt, "psn_part_amt": e.psn_part_amt,
        "acct_pay": e.acct_pay, "acct_mulaid_pay": e.acct_mulaid_pay, "psn_cash_pay": e.psn_cash_pay,
        "hosp_part_amt": e.hosp_part_amt, "balc": e.balc,
    })
}
