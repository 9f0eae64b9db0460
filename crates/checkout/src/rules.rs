//! 事前事中 analysis (3101) before money moves: the center's rules judge the visit and
//! its orders after the pre-settlement; each hit is shown to the cashier before F6. A
//! 明确违规 (`sev_deg` 1) blocks the settlement until a supervisor overrides it with a
//! reason — the override goes to the center (3102) and into the audit log.
use ledger::CheckoutRecord;
use money::Fen;
use nhsa::Infno;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::view::CheckoutView;
use crate::{ctx_of, set_ctx, CheckoutError, Engine, ErrorCode, Operator, Result};

/// One rule hit of 3101.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    pub jr_id: String,
    pub rule_id: String,
    pub rule_name: String,
    /// What the rule found, in the center's words.
    pub vola_cont: String,
    /// The amount at risk.
    pub vola_amt: Fen,
    /// 1 明确违规, 2 高度可疑, 3 轻度可疑.
    pub sev_deg: String,
    /// A 明确违规: the settlement waits for a supervisor.
    pub blocking: bool,
}

impl RuleHit {
    /// What the cashier should do.
    pub fn advice_zh(&self) -> &'static str {
        if self.blocking {
            "明确违规：请核对医嘱后修改，或由主管审核并写明理由后继续结算"
        } else {
            "可疑：请核对医嘱；确认无误可继续结算"
        }
    }
}

pub(crate) fn parse_hits(output: &Value) -> Vec<RuleHit> {
    output["result"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let g = |k: &str| r[k].as_str().unwrap_or("").to_string();
                    let sev = g("sev_deg");
                    RuleHit {
                        jr_id: g("jr_id"),
                        rule_id: g("rule_id"),
                        rule_name: g("rule_name"),
                        vola_cont: g("vola_cont"),
                        vola_amt: Fen::parse(&g("vola_amt")).unwrap_or(Fen::ZERO),
                        blocking: sev == "1",
                        sev_deg: sev,
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn hits(rec: &CheckoutRecord) -> Vec<RuleHit> {
    ctx_of(rec, "rules").unwrap_or_default()
}

pub(crate) fn overridden(rec: &CheckoutRecord) -> bool {
    rec.ctx.get("rules_override").is_some_and(|v| !v.is_null())
}

/// The refusal of a settlement a blocking rule stops (none when nothing blocks or a
/// supervisor has overridden it).
pub(crate) fn blocked(rec: &CheckoutRecord) -> Option<CheckoutError> {
    if overridden(rec) {
        return None;
    }
    let names: Vec<String> = hits(rec)
        .into_iter()
        .filter(|h| h.blocking)
        .map(|h| format!("{}：{}", h.rule_name, h.vola_cont))
        .collect();
    (!names.is_empty()).then(|| {
        CheckoutError::new(
            ErrorCode::RuleBlocked,
            format!("事前事中审核为明确违规，不能结算（{}）", names.join("；")),
            "请核对医嘱后修改；确需结算的，请主管审核并写明理由",
        )
    })
}

impl Engine {
    /// 3101 for the visit and its lines (after 2206). A center that cannot analyse
    /// leaves no hits and says so in the log: the analysis advises, the settlement
    /// itself is checked by the center again.
    pub(crate) async fn analyse(
        &self,
        op: &Operator,
        rec: &mut CheckoutRecord,
        visit: &nhsa::visit::Visit,
        lines: &[billing::BillLine],
    ) -> Result<()> {
        let cnts: Vec<String> = lines.iter().map(|l| l.cnt.to_string()).collect();
        let prics: Vec<String> = lines.iter().map(|l| l.pric.to_string()).collect();
        let orders: Vec<nhsa::inputs::RuleOrder> = lines
            .iter()
            .enumerate()
            .map(|(k, l)| nhsa::inputs::RuleOrder {
                rx_id: &l.order.rxno,
                hilist_code: l.med_list_codg.as_deref().unwrap_or(""),
                hosp_list_code: &l.order.medins_list_codg,
                hilist_name: &l.name,
                cnt: &cnts[k],
                pric: &prics[k],
                sumamt: l.amount(),
                dr_code: &l.order.bilg_dr_codg,
            })
            .collect();
        let p = |k: &str| crate::person_str(rec, k);
        let input = nhsa::inputs::rule_check(
            rec.psn_no.as_deref().unwrap_or(""),
            &p("psn_name"),
            &p("gend"),
            &p("brdy"),
            &p("insuplc_admdvs"),
            rec.mdtrt_id.as_deref().unwrap_or(""),
            &self.cfg.institution.fixmedins_code,
            visit,
            &orders,
        );
        let insuplc = p("insuplc_admdvs");
        let found = match self
            .call_ok(op, Some(&rec.id), &insuplc, Infno::RuleCheck, input)
            .await
        {
            Ok(r) => parse_hits(&r.output),
            Err(e) => {
                tracing::warn!(checkout = %rec.id, error = %e, "3101 failed: no 事前事中 analysis");
                Vec::new()
            }
        };
        set_ctx(rec, "rules", json!(found));
        if let Some(o) = rec.ctx.as_object_mut() {
            o.remove("rules_override");
        }
        Ok(())
    }

    /// A supervisor lets a settlement a blocking rule stopped go ahead, with a reason:
    /// told to the center (3102, 继续执行) and kept in the audit log.
    pub async fn override_rules(
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
                "请写明继续结算的理由",
            )
            .await?;
        let reason = reason.as_str();
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        let found = hits(&rec);
        if !found.iter().any(|h| h.blocking) {
            return Err(CheckoutError::state("这一笔没有需要主管审核的违规提示"));
        }
        let pairs: Vec<(&str, &str)> = found.iter().map(|h| (h.jr_id.as_str(), reason)).collect();
        let insuplc = crate::person_str(&rec, "insuplc_admdvs");
        self.call_ok(
            op,
            Some(id),
            &insuplc,
            Infno::RuleFeedback,
            nhsa::inputs::rule_feedback(&pairs, "1"),
        )
        .await?;
        set_ctx(
            &mut rec,
            "rules_override",
            json!({"supervisor": sup.id, "reason": reason}),
        );
        self.save(op, &mut rec).await?;
        self.ledger
            .audit(
                &op.id,
                "rule.override",
                &json!({"checkout_id": id, "supervisor": sup.id, "reason": reason,
                    "rules": found.iter().map(|h| json!({"rule_id": h.rule_id, "rule_name": h.rule_name,
                        "sev_deg": h.sev_deg, "vola_amt": h.vola_amt})).collect::<Vec<_>>()}),
                self.now(),
            )
            .await?;
        self.view(id).await
    }
}
