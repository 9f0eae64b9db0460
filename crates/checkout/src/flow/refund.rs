//! Refunds (2208) with a supervisor, whole or partial.

use billing::BillLine;
use ledger::{CheckoutRecord, CheckoutState, NewPayment, PaymentChannel, SettlementKind};
use money::Fen;
use nhsa::Infno;
use serde_json::{json, Value};

use super::*;
use crate::machine::{Event, Prior};
use crate::view::{self, CheckoutView};
use crate::{person_str, set_ctx, CheckoutError, Engine, ErrorCode, Job, Operator, Result, Sent};

impl Engine {
    /// Refund a whole settlement (2208) with a supervisor's confirmation; cash
    /// and card go back through the channel they came from.
    pub async fn refund(
        &self,
        op: &Operator,
        id: &str,
        supervisor_id: &str,
        supervisor_password: &str,
        reason: &str,
    ) -> Result<CheckoutView> {
        let sup = self
            .confirm_supervisor(supervisor_id, supervisor_password)
            .await?;
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::RefundSent)?;
        let setl_id = rec
            .setl_id
            .clone()
            .ok_or_else(|| CheckoutError::state("这笔收费没有医保结算，不能按医保退费"))?;
        let insuplc = person_str(&rec, "insuplc_admdvs");
        let psn_no = rec.psn_no.clone().unwrap_or_default();
        let mdtrt = rec.mdtrt_id.clone().unwrap_or_default();
        let prior = match rec.state {
            CheckoutState::Settled => Prior::Settled,
            CheckoutState::Held => Prior::Held,
            _ => Prior::Done,
        };
        set_ctx(&mut rec, "refund_reason", json!(reason));
        set_ctx(&mut rec, "refund_supervisor", json!(sup.id));
        set_ctx(&mut rec, "refund_prior", json!(prior));
        advance(&mut rec, Event::RefundSent)?;
        self.save(op, &mut rec).await?;
        let (msgid, sent) = self
            .call(
                op,
                Some(id),
                None,
                &insuplc,
                Infno::SettleCancel,
                nhsa::inputs::settle_cancel(&setl_id, &mdtrt, &psn_no),
            )
            .await?;
        match sent {
            Sent::Ok(r) => {
                self.adopt_cancel(op, &mut rec, &msgid, &setl_id, &r.output)
                    .await?;
                self.fence_after_refund(op, &rec, &sup.id).await;
                // Nothing of the visit is settled any more: cancel its registration
                // (2202). The money is back already; a failure here is logged, not
                // the refund's.
                let ipt = rec.ipt_otp_no.clone().unwrap_or_default();
                if let Err(e) = self
                    .call_ok(
                        op,
                        Some(id),
                        &insuplc,
                        Infno::RegisterCancel,
                        nhsa::inputs::register_cancel(&psn_no, &mdtrt, &ipt),
                    )
                    .await
                {
                    tracing::warn!(checkout = %id, error = %e, "2202 after the refund failed");
                }
                self.view(id).await
            }
            Sent::Err(e) => {
                let doubt = e.in_doubt();
                if doubt && !self.reverse(op, &msgid, "2208", &psn_no, &insuplc).await? {
                    let job = Job::Reverse {
                        omsgid: msgid.clone(),
                        oinfno: "2208".into(),
                        psn_no: psn_no.clone(),
                        insuplc: insuplc.clone(),
                    };
                    self.enqueue(op, &job, Some(&rec)).await?;
                    return Err(CheckoutError::new(
                        ErrorCode::InDoubt,
                        "退费结果未知，网络恢复后将自动冲正",
                        "请勿重复退费，稍后在记录中查看",
                    )
                    .with_detail(e.detail()));
                }
                advance(&mut rec, Event::RefundUndone { prior })?;
                self.save(op, &mut rec).await?;
                Err(if doubt {
                    CheckoutError::new(
                        ErrorCode::Network,
                        "退费结果未知，已自动冲正，本次未退费",
                        "请再退一次",
                    )
                    .with_detail(e.detail())
                } else {
                    CheckoutError::center(&e)
                })
            }
        }
    }

    /// Partial refund (§5.3: 22xx has no line-level refund): cancel the whole
    /// settlement (2208, supervisor confirmed), then settle the lines the
    /// patient keeps as a new checkout linked to the original (same person, by
    /// 身份证). Returns the new checkout, settled (its cash part still to collect).
    pub async fn partial_refund(
        &self,
        op: &Operator,
        id: &str,
        keep: &[usize],
        supervisor_id: &str,
        supervisor_password: &str,
    ) -> Result<CheckoutView> {
        let orig = self.load(id).await?;
        let lines = view::lines_of(&orig);
        let mut seen = std::collections::BTreeSet::new();
        for &i in keep {
            if i >= lines.len() {
                return Err(CheckoutError::input(format!(
                    "没有第 {i} 行：本单共 {} 行（编号 0–{}）",
                    lines.len(),
                    lines.len().saturating_sub(1)
                )));
            }
            if !seen.insert(i) {
                return Err(CheckoutError::input(format!(
                    "保留项目第 {i} 行写了两次，每行只能保留一次"
                )));
            }
        }
        let kept: Vec<BillLine> = seen.iter().map(|&i| lines[i].clone()).collect();
        if kept.is_empty() || kept.len() == lines.len() {
            return Err(CheckoutError::input(
                "部分退费需保留部分项目：全部退请用整笔退费，不退请取消",
            ));
        }
        let certno = person_str(&orig, "certno");
        let name = person_str(&orig, "psn_name");
        self.refund(
            op,
            id,
            supervisor_id,
            supervisor_password,
            "部分退费：撤销后重新结算保留项目",
        )
        .await?;
        let v = self.start(op).await?;
        let mut rec = self.load(&v.id).await?;
        rec.parent_id = Some(id.to_string());
        self.save(op, &mut rec).await?;
        self.resolve_id(op, &v.id, &certno, &name).await?;
        // The same visit (doctor, department, diagnoses), registered anew.
        if let Some(visit) = crate::ctx_of::<nhsa::visit::Visit>(&orig, "visit") {
            let med_type = match crate::ctx_str(&orig, "med_type") {
                m if m.is_empty() => "11".to_string(),
                m => m,
            };
            self.set_visit(op, &v.id, &med_type, visit).await?;
        }
        self.set_lines(op, &v.id, kept).await?;
        let acct_used = orig
            .ctx
            .get("acct_used")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        self.presettle(op, &v.id, acct_used).await?;
        self.settle(op, &v.id).await
    }

    pub(crate) async fn adopt_cancel(
        &self,
        op: &Operator,
        rec: &mut CheckoutRecord,
        msgid: &str,
        orig: &str,
        output: &Value,
    ) -> Result<()> {
        let info = output["setlinfo"].clone();
        let s: nhsa::types::Setlinfo = serde_json::from_value(info.clone()).unwrap_or_default();
        let cancel_id = s
            .setl_id
            .clone()
            .filter(|x| x != orig)
            .unwrap_or_else(|| format!("{orig}-C"));
        let rec_s = settlement_record(
            rec,
            msgid,
            SettlementKind::Cancel,
            &cancel_id,
            Some(orig),
            &s,
            output,
        );
        let mut pays = fund_payments(&rec.id, &rec_s, Some("2208 退回"));
        // Cash and card back through the channel they came from.
        for p in self.ledger.payments_of_checkout(&rec.id).await? {
            let ch = p.payment.channel;
            if matches!(ch, PaymentChannel::Cash | PaymentChannel::Card)
                && p.payment.amount > Fen::ZERO
            {
                pays.push(NewPayment {
                    checkout_id: rec.id.clone(),
                    setl_id: Some(cancel_id.clone()),
                    channel: ch,
                    amount: -p.payment.amount,
                    given: None,
                    change: None,
                    reference: p.payment.reference.clone(),
                    note: Some(format!("退回{}", ch.name_zh())),
                });
            }
        }
        set_ctx(rec, "refund", info);
        set_ctx(rec, "refund_setl_id", json!(cancel_id));
        advance(rec, Event::RefundAnswered)?;
        self.ledger
            .record_settlement(&rec_s, &pays, rec, &op.id, self.now())
            .await?;
        Ok(())
    }
}
