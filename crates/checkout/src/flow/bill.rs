//! The bill's lines (before anything is uploaded).

use billing::BillLine;
use serde_json::Value;

use super::*;
use crate::machine::Event;
use crate::view::CheckoutView;
use crate::{set_ctx, CheckoutError, Engine, Operator, Result};

impl Engine {
    /// Replace the bill's lines (before settlement).
    pub async fn set_lines(
        &self,
        op: &Operator,
        id: &str,
        lines: Vec<BillLine>,
    ) -> Result<CheckoutView> {
        let mut rec = self.load(id).await?;
        check(
            &rec,
            Event::LinesSet {
                has_person: true,
                empty: false,
            },
        )?;
        billing::check_bill(&lines).map_err(|e| CheckoutError::input(e.to_string()))?;
        // What a bill (a HIS's, or an old file) leaves out of a catalogued item — its
        // 先行自付 ratio, its price cap, the hospital's code — comes from the catalogue.
        let lines: Vec<BillLine> = lines
            .into_iter()
            .map(|mut l| {
                if let Some(it) = l
                    .med_list_codg
                    .as_deref()
                    .and_then(|c| self.cfg.catalog.get(c))
                {
                    if l.selfpay_prop.is_none() && l.chrgitm_lv == it.chrgitm_lv {
                        l.selfpay_prop = it.selfpay_prop;
                    }
                    if l.pric_uplmt_amt.is_none() {
                        l.pric_uplmt_amt = it.pric_uplmt_amt;
                    }
                    if l.order.medins_list_codg.is_empty() {
                        l.order.medins_list_codg = it.hosp_code.clone();
                    }
                }
                l
            })
            .collect();
        for (i, l) in lines.iter().enumerate() {
            if l.cnt.0 <= 0 {
                return Err(CheckoutError::input(format!(
                    "第 {} 行「{}」数量必须大于 0",
                    i + 1,
                    l.name
                )));
            }
            if l.pric.0 < 0 {
                return Err(CheckoutError::input(format!(
                    "第 {} 行「{}」单价不能为负",
                    i + 1,
                    l.name
                )));
            }
        }
        set_ctx(
            &mut rec,
            "lines",
            serde_json::to_value(&lines).unwrap_or(Value::Null),
        );
        if let Some(obj) = rec.ctx.as_object_mut() {
            obj.remove("presettle");
        }
        let ev = Event::LinesSet {
            has_person: rec.person.is_some(),
            empty: lines.is_empty(),
        };
        advance(&mut rec, ev)?;
        self.save(op, &mut rec).await?;
        self.view(id).await
    }

    /// The visit the HIS gave with the bill (doctor, department, diagnoses): 2201 and
    /// 2203 send it as it is. Refused — before anything is sent — when it lacks what
    /// the interface requires, saying what (e.g. 就诊医生未维护医保医师编码).
    pub async fn set_visit(
        &self,
        op: &Operator,
        id: &str,
        med_type: &str,
        visit: nhsa::visit::Visit,
    ) -> Result<CheckoutView> {
        let mut rec = self.load(id).await?;
        if rec.mdtrt_id.is_some() {
            return Err(CheckoutError::state("这次就诊已挂号，不能再换就诊信息"));
        }
        let missing = visit.missing();
        if !missing.is_empty() {
            return Err(CheckoutError::input(format!(
                "就诊信息不完整，不能上传医保：{}",
                missing.join("；")
            )));
        }
        check_med_type(&rec, med_type, &visit)?;
        set_ctx(
            &mut rec,
            "visit",
            serde_json::to_value(&visit).unwrap_or(Value::Null),
        );
        set_ctx(&mut rec, "med_type", Value::from(med_type));
        self.save(op, &mut rec).await?;
        self.view(id).await
    }
}

/// The 医疗类别 a counter settles: 11 普通门诊, or 14 门诊慢特病 under a registration
/// the person holds (5301) whose code the visit names. Checked when the visit is set
/// (once the person is known) and again before 2201.
pub(crate) fn check_med_type(
    rec: &ledger::CheckoutRecord,
    med_type: &str,
    visit: &nhsa::visit::Visit,
) -> Result<()> {
    match med_type {
        "11" => Ok(()),
        "14" => {
            if visit.dise_codg.trim().is_empty() {
                return Err(CheckoutError::input(
                    "门诊慢特病（14）的账单没有病种（dise_codg），请选择患者备案的慢特病病种",
                ));
            }
            if rec.person.is_some()
                && !registrations(rec)
                    .iter()
                    .any(|r| r.code == visit.dise_codg.trim())
            {
                return Err(not_registered(visit.dise_codg.trim()));
            }
            Ok(())
        }
        other => Err(CheckoutError::input(format!(
            "本收费台只办理普通门诊（11）和门诊慢特病（14），账单的医疗类别为 {other}"
        ))),
    }
}
