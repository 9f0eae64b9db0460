//! Settlement (2207): the answer booked or, when it cannot be trusted, reversed or held.

use ledger::{CheckoutMode, CheckoutRecord, SettlementKind};
use money::Fen;
use nhsa::Infno;
use serde_json::{json, Value};

use super::*;
use crate::machine::Event;
use crate::view::CheckoutView;
use crate::{
    ctx_of, person_str, set_ctx, CheckoutError, Engine, ErrorCode, Job, Operator, Result, Sent,
};

impl Engine {
    /// Settle (2207) with the 2206 figures. An answer lost in the network is
    /// reversed (2601) before anything else can happen.
    pub async fn settle(&self, op: &Operator, id: &str) -> Result<CheckoutView> {
        // This step owns the checkout until the 2207's outcome is booked: a recovery or
        // a queue replay running meanwhile leaves it alone.
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::SettleSent)?;
        if let Some(e) = crate::rules::blocked(&rec) {
            return Err(e);
        }
        let pre = rec.ctx.get("presettle").cloned().unwrap_or(Value::Null);
        let pre_in = rec.ctx.get("pre_input").cloned().unwrap_or(Value::Null);
        let s: nhsa::types::Setlinfo =
            serde_json::from_value(pre).map_err(|_| CheckoutError::state("请先预结算（F5）"))?;
        let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
        let invono = format!("R{}", self.now().format("%Y%m%d%H%M%S"));
        let input = nhsa::inputs::settle(
            &pre_in,
            &invono,
            z(s.fulamt_ownpay_amt),
            z(s.overlmt_selfpay),
            z(s.preselfpay_amt),
            z(s.inscp_scp_amt),
        );
        advance(&mut rec, Event::SettleSent)?;
        self.save(op, &mut rec).await?;
        let insuplc = person_str(&rec, "insuplc_admdvs");
        let psn_no = rec.psn_no.clone().unwrap_or_default();
        let (msgid, sent) = self
            .call(op, Some(id), None, &insuplc, Infno::Settle, input)
            .await?;
        let offline = rec.mode == CheckoutMode::Offline;
        let doubt =
            match sent {
                Sent::Ok(r) => match self.adopt_settlement(op, &mut rec, &msgid, &r.output).await {
                    Ok(()) => {
                        self.fence_after_settle(op, &rec).await;
                        return self.view(id).await;
                    }
                    // The center settled, but this counter could not write it down: say so.
                    // After a restart recovery books the recorded answer (or reverses it).
                    Err(e) if e.kind == ErrorCode::Ledger => return Err(CheckoutError::new(
                        ErrorCode::InDoubt,
                        "医保中心已结算，但本机账本未能记下结果",
                        "请勿重复结算，也先不要收款；释放磁盘空间后重启本程序，将自动补记或冲正",
                    )
                    .with_detail(e.detail.unwrap_or_default())),
                    // A success answer we cannot read is no settlement we can stand behind.
                    Err(e) => e.detail.unwrap_or(e.message),
                },
                Sent::Err(e) if e.in_doubt() => e.detail(),
                Sent::Err(e) => {
                    advance(&mut rec, Event::SettleUndone { offline })?;
                    self.save(op, &mut rec).await?;
                    return Err(CheckoutError::center(&e));
                }
            };
        // The outcome is unknown: reverse it (2601) before anything else can happen.
        if self.reverse(op, &msgid, "2207", &psn_no, &insuplc).await? {
            advance(&mut rec, Event::SettleUndone { offline })?;
            self.save(op, &mut rec).await?;
            Err(CheckoutError::new(
                ErrorCode::Network,
                "结算结果未知，已自动冲正，本次未扣款",
                "请重新结算",
            )
            .with_detail(doubt))
        } else {
            let job = Job::Reverse {
                omsgid: msgid.clone(),
                oinfno: "2207".into(),
                psn_no: psn_no.clone(),
                insuplc: insuplc.clone(),
            };
            self.enqueue(op, &job, Some(&rec)).await?;
            Err(CheckoutError::new(
                ErrorCode::InDoubt,
                "结算结果未知，网络恢复后将自动冲正",
                "请勿重复结算，也不要收款：请患者稍候，冲正完成后再结算",
            )
            .with_detail(doubt))
        }
    }

    /// Record a 2207 answer: the settlement, the fund/account payments, the due amount.
    pub(crate) async fn adopt_settlement(
        &self,
        op: &Operator,
        rec: &mut CheckoutRecord,
        msgid: &str,
        output: &Value,
    ) -> Result<()> {
        let info = output["setlinfo"].clone();
        let s: nhsa::types::Setlinfo = serde_json::from_value(info.clone()).map_err(|e| {
            CheckoutError::new(
                ErrorCode::SystemFault,
                "中心返回的结算结果无法识别",
                "请联系信息科核对（结算可能已成功）",
            )
            .with_detail(e.to_string())
        })?;
        let setl_id = s.setl_id.clone().ok_or_else(|| {
            CheckoutError::new(
                ErrorCode::SystemFault,
                "中心未返回结算ID",
                "请联系信息科核对",
            )
        })?;
        // The settlement stands at the center whatever we think of it (the ledger must
        // match the center's books); figures that do not add up, or differ from the
        // pre-settlement, are shown to the cashier before any money is taken.
        let mut notes: Vec<String> = ctx_of(rec, "discrepancies").unwrap_or_default();
        if let Err(e) = s.check_identities(&info) {
            notes.push(format!(
                "中心结算结果金额不平（{e}）：请核对后再收款，有误时到记录页退费并联系信息科"
            ));
        }
        if let Some(pre) = ctx_of::<nhsa::types::Setlinfo>(rec, "presettle") {
            notes.extend(settle_differences(&pre, &s));
        }
        notes.extend(out_of_range(&s));
        if !notes.is_empty() {
            tracing::warn!(checkout = %rec.id, ?notes, "2207 answer flagged");
        }
        set_ctx(rec, "discrepancies", json!(notes));
        let rec_s = settlement_record(
            rec,
            msgid,
            SettlementKind::Settle,
            &setl_id,
            None,
            &s,
            output,
        );
        let pays = fund_payments(&rec.id, &rec_s, None);
        rec.setl_id = Some(setl_id);
        set_ctx(rec, "settle", info);
        let ev = Event::SettleAnswered {
            cash_due: rec_s.psn_cash_pay > Fen::ZERO,
            flagged: !notes.is_empty(),
            // Cash for an offline or adopted checkout was (or is) settled apart.
            offline: rec.mode != CheckoutMode::Online,
        };
        advance(rec, ev)?;
        self.ledger
            .record_settlement(&rec_s, &pays, rec, &op.id, self.now())
            .await?;
        Ok(())
    }

    /// A supervisor accepts a held (flagged) settlement with a reason: the rest may
    /// then be collected. Both people and the reason go into the audit log. (The
    /// other way out of `held` is a refund.)
    pub async fn accept_held(
        &self,
        op: &Operator,
        id: &str,
        supervisor_id: &str,
        supervisor_password: &str,
        reason: &str,
    ) -> Result<CheckoutView> {
        let (sup, reason) = self
            .approval(
                supervisor_id,
                supervisor_password,
                reason,
                "请写明接受该结算结果的理由",
            )
            .await?;
        let reason = reason.as_str();
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        let cash_due = self
            .view(id)
            .await?
            .split
            .map(|s| s.psn_cash_pay)
            .unwrap_or(Fen::ZERO)
            > Fen::ZERO;
        advance(&mut rec, Event::HoldAccepted { cash_due })?;
        set_ctx(
            &mut rec,
            "hold_accepted",
            json!({"supervisor": sup.id, "reason": reason}),
        );
        self.save(op, &mut rec).await?;
        self.ledger
            .audit(
                &op.id,
                "checkout.hold_accepted",
                &json!({"checkout": id, "setl_id": rec.setl_id, "supervisor": sup.id, "cashier": op.id, "reason": reason}),
                self.now(),
            )
            .await?;
        self.view(id).await
    }

    /// A supervisor's approval of something with a reason: the reason (at least two
    /// characters, else `missing`) and the confirmed supervisor.
    pub(crate) async fn approval(
        &self,
        supervisor_id: &str,
        supervisor_password: &str,
        reason: &str,
        missing: &str,
    ) -> Result<(ledger::Operator, String)> {
        let reason = reason.trim();
        if reason.chars().count() < 2 {
            return Err(CheckoutError::input(missing));
        }
        let sup = self
            .confirm_supervisor(supervisor_id, supervisor_password)
            .await?;
        Ok((sup, reason.to_string()))
    }

    pub(crate) async fn confirm_supervisor(
        &self,
        id: &str,
        password: &str,
    ) -> Result<ledger::Operator> {
        self.ledger
            .confirm_supervisor_at(id, password, self.cfg.auth_source, self.now())
            .await
            .map_err(|e| match e {
                ledger::Error::Auth(a) => CheckoutError::new(
                    ErrorCode::Auth,
                    a.message_zh(),
                    "需要主管输入自己的工号和密码确认",
                ),
                other => other.into(),
            })
    }
}

/// Parts of a 2207 answer that cannot be right whatever the policy: a negative
/// part, or a part larger than the whole bill.
pub(crate) fn out_of_range(s: &nhsa::types::Setlinfo) -> Vec<String> {
    let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
    let total = z(s.medfee_sumamt);
    [
        ("基金支付", z(s.fund_pay_sumamt)),
        ("个人账户支付", z(s.acct_pay)),
        ("共济支付", z(s.acct_mulaid_pay)),
        ("个人现金支付", z(s.psn_cash_pay)),
        ("医院负担", z(s.hosp_part_amt)),
    ]
    .into_iter()
    .filter(|(_, v)| *v < Fen::ZERO || *v > total)
    .map(|(label, v)| format!("中心结算结果的{label} {v} 元超出范围（医疗费总额 {total} 元）"))
    .collect()
}

/// Money and class fields of a 2207 answer that differ from the 2206 answer it was sent with.
pub(crate) fn settle_differences(
    pre: &nhsa::types::Setlinfo,
    s: &nhsa::types::Setlinfo,
) -> Vec<String> {
    let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
    [
        ("医疗费总额", z(pre.medfee_sumamt), z(s.medfee_sumamt)),
        (
            "全自费金额",
            z(pre.fulamt_ownpay_amt),
            z(s.fulamt_ownpay_amt),
        ),
        (
            "超限价自费金额",
            z(pre.overlmt_selfpay),
            z(s.overlmt_selfpay),
        ),
        ("先行自付金额", z(pre.preselfpay_amt), z(s.preselfpay_amt)),
        ("符合政策范围金额", z(pre.inscp_scp_amt), z(s.inscp_scp_amt)),
        ("基金支付", z(pre.fund_pay_sumamt), z(s.fund_pay_sumamt)),
        ("个人账户支付", z(pre.acct_pay), z(s.acct_pay)),
        ("共济支付", z(pre.acct_mulaid_pay), z(s.acct_mulaid_pay)),
        ("个人现金支付", z(pre.psn_cash_pay), z(s.psn_cash_pay)),
    ]
    .into_iter()
    .filter(|(_, a, b)| a != b)
    .map(|(label, a, b)| format!("{label}：预结算 {a} 元，结算 {b} 元（以结算为准）"))
    .collect()
}
