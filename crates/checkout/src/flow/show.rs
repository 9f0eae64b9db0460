//! The checkout as the screen and the CLI show it.

use billing::BillLine;
use ledger::{CheckoutMode, CheckoutState, PaymentChannel};
use money::Fen;
use serde_json::Value;

use super::*;
use crate::machine::stage_of;
use crate::view::{self, CheckoutView};
use crate::{ctx_of, Engine, Result};

impl Engine {
    /// The checkout as the screen shows it.
    pub async fn view(&self, id: &str) -> Result<CheckoutView> {
        let rec = self.load(id).await?;
        let lines = view::lines_of(&rec);
        let total: Fen = lines.iter().map(BillLine::amount).sum();
        let acct_used = rec
            .ctx
            .get("acct_used")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let settled = rec.ctx.get("settle").filter(|v| v.is_object());
        // What the screen shows: the settlement, else the pre-settlement, else the offline estimate.
        let split = match (
            settled,
            rec.ctx.get("presettle").filter(|v| v.is_object()),
            rec.ctx.get("estimate").filter(|v| v.is_object()),
        ) {
            (Some(s), _, _) => view::split_from(s, false),
            (None, Some(p), _) => view::split_from(p, false),
            (None, None, Some(e)) => view::split_from(e, true),
            _ => None,
        };
        let person = rec
            .person
            .as_ref()
            .map(|p| person_view(p, &self.cfg.institution.mdtrtarea_admvs));
        let balc_before = person.as_ref().map(|p| p.balc).unwrap_or(Fen::ZERO);
        let reasons = split
            .as_ref()
            .map(|s| view::reasons(s, balc_before, acct_used))
            .unwrap_or_default();
        let payments = self.ledger.payments_of_checkout(id).await?;
        let collected: Fen = payments
            .iter()
            .filter(|p| {
                matches!(
                    p.payment.channel,
                    PaymentChannel::Cash | PaymentChannel::Card
                )
            })
            .map(|p| p.payment.amount)
            .sum();
        let change: Fen = payments.iter().filter_map(|p| p.payment.change).sum();
        let cash_part = split.as_ref().map(|s| s.psn_cash_pay).unwrap_or(Fen::ZERO);
        let due = match rec.state {
            CheckoutState::Settled => cash_part - collected,
            CheckoutState::Presettled if rec.mode == CheckoutMode::Online => cash_part,
            _ => Fen::ZERO,
        };
        Ok(CheckoutView {
            id: rec.id.clone(),
            state: rec.state,
            stage: stage_of(rec.state),
            mode: rec.mode,
            operator_id: rec.operator_id.clone(),
            person,
            lines: view::line_views(&lines),
            total,
            acct_used,
            split,
            reasons,
            due: due.clamp_zero(),
            paid: collected,
            change,
            payments,
            setl_id: rec.setl_id.clone(),
            refund_setl_id: rec
                .ctx
                .get("refund_setl_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            outbox_id: rec
                .ctx
                .get("outbox_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            created_at: rec.created_at.clone(),
            discrepancies: ctx_of(&rec, "discrepancies").unwrap_or_default(),
            med_type: match crate::ctx_str(&rec, "med_type") {
                m if m.is_empty() => "11".into(),
                m => m,
            },
            visit: ctx_of(&rec, "visit"),
            registrations: super::registrations(&rec),
            his_bill_id: ctx_of(&rec, "his_bill_id"),
            rule_hits: crate::rules::hits(&rec),
            rules_overridden: crate::rules::overridden(&rec),
        })
    }
}
