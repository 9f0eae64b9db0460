//! The hospital's HIS (crate `his`): the patient's pending orders become the bill
//! (visit, 医疗类别, lines with their orders); a settled bill is reported paid and a
//! refunded one refunded — through the outbox, exactly once per notice id, retried
//! while the HIS is down (the HIS API is idempotent by notice id), never in the way of
//! the center's jobs.
use his::{Lookup, PaidNotice, PendingBill, RefundNotice};
use ledger::{CheckoutRecord, CheckoutState};
use serde_json::json;

use crate::view::CheckoutView;
use crate::{ctx_str, set_ctx, CheckoutError, Engine, ErrorCode, Job, Operator, Result};

pub(crate) fn his_error(e: his::HisError) -> CheckoutError {
    if e.retryable() {
        CheckoutError::new(
            ErrorCode::HisUnreachable,
            "连接不上医院 HIS",
            "请稍后重试；通知会自动重发，医嘱也可手工录入",
        )
        .with_detail(e.to_string())
    } else {
        CheckoutError::new(
            ErrorCode::HisRefused,
            "医院 HIS 拒绝了请求",
            "请信息科在 HIS 中核对该账单",
        )
        .with_detail(e.to_string())
    }
}

impl Engine {
    /// The patient's unpaid orders at the HIS (none without one: clinic mode).
    pub async fn his_pending(&self, id: &str) -> Result<Vec<PendingBill>> {
        let rec = self.load(id).await?;
        let certno = crate::person_str(&rec, "certno");
        if certno.is_empty() {
            return Err(CheckoutError::state("请先识别患者，再取 HIS 待缴费医嘱"));
        }
        self.cfg
            .his
            .pending(&Lookup::Certno(certno))
            .await
            .map_err(his_error)
    }

    /// Take a pending HIS bill as this checkout's bill: its visit and 医疗类别 (checked
    /// as `set_visit` does) and its lines with their orders. Refused when the bill is
    /// another person's.
    pub async fn take_his_bill(
        &self,
        op: &Operator,
        id: &str,
        bill: &PendingBill,
    ) -> Result<CheckoutView> {
        let rec = self.load(id).await?;
        let certno = crate::person_str(&rec, "certno");
        if !certno.is_empty() && !bill.certno.eq_ignore_ascii_case(&certno) {
            return Err(CheckoutError::input(
                "这张 HIS 账单不是当前患者的，请核对患者",
            ));
        }
        let lines = bill
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| billing::parse_line(i, l))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| CheckoutError::input(format!("HIS 账单 {} 有误：{e}", bill.bill_id)))?;
        self.set_visit(op, id, &bill.med_type, bill.visit.clone())
            .await?;
        self.set_lines(op, id, lines).await?;
        let mut rec = self.load(id).await?;
        set_ctx(&mut rec, "his_bill_id", json!(bill.bill_id));
        self.save(op, &mut rec).await?;
        self.view(id).await
    }

    /// Queue the HIS notices that are due: a paid notice for each HIS bill settled and
    /// collected, a refund notice for each refunded. Each checkout's notice is queued
    /// once (a flag in its context; a repeat after a crash carries the same notice id,
    /// which the HIS takes once). The number queued.
    pub async fn queue_his_notices(&self, op: &Operator) -> Result<usize> {
        if matches!(self.cfg.his, his::His::None) {
            return Ok(0);
        }
        let mut n = 0;
        let recs = self
            .ledger
            .checkouts(&[CheckoutState::Done, CheckoutState::Refunded], 500)
            .await?;
        for rec in recs {
            let bill = ctx_str(&rec, "his_bill_id");
            if bill.is_empty() || rec.setl_id.is_none() {
                continue;
            }
            if ctx_str(&rec, "his_paid_queued").is_empty() {
                let job = Job::HisPaid(self.paid_notice(&rec, &bill).await?);
                self.flag_queued(op, &rec.id, &job, "his_paid_queued")
                    .await?;
                n += 1;
            }
            if rec.state == CheckoutState::Refunded && ctx_str(&rec, "his_refund_queued").is_empty()
            {
                let job = Job::HisRefunded(RefundNotice {
                    notice_id: format!("{}-refund", rec.id),
                    bill_id: bill.clone(),
                    setl_id: rec.setl_id.clone().unwrap_or_default(),
                    refunded_at: self.now().format("%Y-%m-%d %H:%M:%S").to_string(),
                });
                self.flag_queued(op, &rec.id, &job, "his_refund_queued")
                    .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    async fn paid_notice(&self, rec: &CheckoutRecord, bill: &str) -> Result<PaidNotice> {
        let v = self.view(&rec.id).await?;
        let s = v.split.clone();
        let f = |x: Option<money::Fen>| x.unwrap_or(money::Fen::ZERO).to_string();
        Ok(PaidNotice {
            notice_id: format!("{}-paid", rec.id),
            bill_id: bill.to_string(),
            setl_id: rec.setl_id.clone().unwrap_or_default(),
            mdtrt_id: rec.mdtrt_id.clone().unwrap_or_default(),
            psn_no: rec.psn_no.clone().unwrap_or_default(),
            medfee_sumamt: f(s.as_ref().map(|s| s.medfee_sumamt)),
            fund_pay_sumamt: f(s.as_ref().map(|s| s.fund_pay_sumamt)),
            psn_cash_pay: f(s.as_ref().map(|s| s.psn_cash_pay)),
            paid_at: self.now().format("%Y-%m-%d %H:%M:%S").to_string(),
        })
    }

    async fn flag_queued(&self, op: &Operator, id: &str, job: &Job, flag: &str) -> Result<()> {
        let mut rec = self.load(id).await?;
        self.enqueue(op, job, None).await?;
        set_ctx(&mut rec, flag, json!("1"));
        self.save(op, &mut rec).await
    }

    /// Send one HIS notice (a queued job).
    pub(crate) async fn send_his(&self, job: &Job) -> Result<serde_json::Value> {
        match job {
            Job::HisPaid(n) => self.cfg.his.paid(n).await.map_err(his_error)?,
            Job::HisRefunded(n) => self.cfg.his.refunded(n).await.map_err(his_error)?,
            _ => return Err(CheckoutError::input("不是 HIS 通知")),
        }
        Ok(json!({"notified": job.kind()}))
    }
}
