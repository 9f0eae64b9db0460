//! The checkout as the window shows it: the engine's view mapped to the DTOs.

use ::checkout::CheckoutState;
use money::{Fen, Qty};

use crate::dto::{
    BillLineView, CheckoutStage, CheckoutView, FallbackView, PaymentView, PersonView, SplitView,
};

/// The window's stage, from the engine's (one exhaustive match; no rule here).
pub(crate) fn stage_of(s: ::checkout::Stage) -> CheckoutStage {
    use ::checkout::Stage as S;
    match s {
        S::Idle => CheckoutStage::Idle,
        S::Resolved => CheckoutStage::Resolved,
        S::PreSettled => CheckoutStage::PreSettled,
        S::InDoubt => CheckoutStage::InDoubt,
        S::Held => CheckoutStage::Held,
        S::Settled => CheckoutStage::Settled,
        S::Done => CheckoutStage::Done,
        S::Queued => CheckoutStage::Queued,
    }
}

pub(crate) fn idle_view() -> CheckoutView {
    CheckoutView {
        stage: CheckoutStage::Idle,
        person: None,
        lines: Vec::new(),
        total: Fen::ZERO,
        acct_used: true,
        split: None,
        setl_id: None,
        due: Fen::ZERO,
        payments: Vec::new(),
        queue_item: None,
        notice: None,
        med_type: "11".into(),
        visit: None,
        registrations: Vec::new(),
        his_bill_id: None,
        rule_hits: Vec::new(),
        rules_overridden: false,
    }
}

/// The visit as the screen shows it.
pub(crate) fn visit_view(v: &nhsa::visit::Visit) -> crate::dto::VisitView {
    crate::dto::VisitView {
        dr_name: v.dr_name.clone(),
        atddr_no: v.atddr_no.clone(),
        dept_name: v.dept_name.clone(),
        dept_code: v.dept_code.clone(),
        caty: v.caty.clone(),
        ipt_otp_no: v.ipt_otp_no.clone(),
        diagnoses: v
            .diseinfo
            .iter()
            .map(|d| format!("{} {}", d.diag_code, d.diag_name))
            .collect(),
        chronic: (!v.dise_codg.is_empty()).then(|| format!("{} {}", v.dise_codg, v.dise_name)),
    }
}

pub(crate) fn to_dto(v: ::checkout::CheckoutView, mask: bool) -> CheckoutView {
    let person = v.person.map(|p| PersonView {
        psn_no: p.psn_no,
        name: if mask {
            voucher::mask_name(&p.name)
        } else {
            p.name
        },
        cert_no_masked: p.certno_masked,
        insutype_label_en: nhsa::dict::insutype_label(&p.insutype).1.into(),
        insutype: p.insutype,
        insutype_label: p.insutype_name,
        balc: p.balc,
        insuplc_admdvs: p.insuplc_admdvs,
        region: match p.region.as_str() {
            "本地" => "local",
            "省内异地" => "in_province",
            _ => "cross_province",
        }
        .into(),
        region_label: p.region,
        notes: p.notes,
    });
    let split = v.split.map(|s| SplitView {
        medfee_sumamt: s.medfee_sumamt,
        hifp_pay: s.hifp_pay,
        other_fund_pay: s.other_fund_pay,
        fund_pay_sumamt: s.fund_pay_sumamt,
        acct_pay: s.acct_pay,
        acct_mulaid_pay: s.acct_mulaid_pay,
        psn_cash_pay: s.psn_cash_pay,
        fulamt_ownpay_amt: s.fulamt_ownpay_amt,
        overlmt_selfpay: s.overlmt_selfpay,
        preselfpay_amt: s.preselfpay_amt,
        act_pay_dedc: s.act_pay_dedc,
        balc_after: s.balc,
        fallback: v
            .reasons
            .iter()
            .map(|r| FallbackView {
                reason: r.text.clone(),
                reason_en: r.text_en.clone(),
                amount: r.amount,
            })
            .collect(),
        discrepancies: v.discrepancies.clone(),
        estimate: s.estimate,
    });
    let notice = match v.state {
        CheckoutState::OfflineQueued => Some(
            "医保中心暂不可达：已按离线方式收费，医保结算已排队，网络恢复后自动补传。".to_string(),
        ),
        CheckoutState::Refunded => Some(format!(
            "已退费（撤销结算号 {}）",
            v.refund_setl_id.clone().unwrap_or_default()
        )),
        CheckoutState::Settling => {
            Some("结算结果未知：正在等待冲正，完成前不能再结算或收款。".to_string())
        }
        CheckoutState::Refunding => {
            Some("退费结果未知：正在等待冲正，完成前不能再退费。".to_string())
        }
        CheckoutState::Held => Some(
            "中心结算结果与预结算或本院目录不符：未收款，需主管核对后接受，或退费。".to_string(),
        ),
        _ => None,
    };
    CheckoutView {
        stage: stage_of(v.stage),
        person,
        lines: v
            .lines
            .iter()
            .map(|l| BillLineView {
                code: l.code.clone().unwrap_or_default(),
                name: l.name.clone(),
                category_label: billing::fee_category_name(&l.med_chrgitm_type).into(),
                class_label: l.class.clone(),
                cnt: Qty::parse(&l.cnt).unwrap_or(Qty(0)),
                pric: money::Price::parse(&l.pric).unwrap_or(money::Price(0)),
                amount: l.amount,
            })
            .collect(),
        total: v.total,
        acct_used: v.acct_used,
        split,
        setl_id: v.setl_id,
        due: v.due,
        payments: v
            .payments
            .iter()
            .filter(|p| {
                matches!(
                    p.payment.channel,
                    ledger::PaymentChannel::Cash | ledger::PaymentChannel::Card
                )
            })
            .map(|p| PaymentView {
                channel: p.payment.channel.name_zh().into(),
                channel_code: p.payment.channel,
                amount: p.payment.amount,
                given: p.payment.given,
                change: p.payment.change,
                reference: p.payment.reference.clone(),
            })
            .collect(),
        queue_item: v.outbox_id,
        notice,
        med_type: v.med_type.clone(),
        visit: v.visit.as_ref().map(visit_view),
        registrations: v
            .registrations
            .iter()
            .map(|r| crate::dto::RegistrationView {
                code: r.code.clone(),
                name: r.name.clone(),
            })
            .collect(),
        his_bill_id: v.his_bill_id.clone(),
        rule_hits: v
            .rule_hits
            .iter()
            .map(|h| crate::dto::RuleHitView {
                rule_name: h.rule_name.clone(),
                vola_cont: h.vola_cont.clone(),
                vola_amt: h.vola_amt,
                blocking: h.blocking,
                advice: h.advice_zh().into(),
            })
            .collect(),
        rules_overridden: v.rules_overridden,
    }
}
