//! Pre-settlement: 2201 → 2203 → 2204 → 2206, the answers checked against the local catalogue.

use billing::BillLine;
use money::Fen;
use nhsa::Infno;
use serde_json::json;

use super::*;
use crate::machine::Event;
use crate::view::{self, CheckoutView};
use crate::{ctx_str, person_str, set_ctx, CheckoutError, Engine, ErrorCode, Operator, Result};

impl Engine {
    /// Register (2201), upload the visit (2203) and lines (2204), pre-settle (2206).
    pub async fn presettle(
        &self,
        op: &Operator,
        id: &str,
        acct_used: bool,
    ) -> Result<CheckoutView> {
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::Presettled)?;
        let lines = view::lines_of(&rec);
        if lines.is_empty() {
            return Err(CheckoutError::input("账单没有收费项目"));
        }
        let psn_no = rec.psn_no.clone().unwrap_or_default();
        let insutype = rec.insutype.clone().unwrap_or_default();
        let insuplc = person_str(&rec, "insuplc_admdvs");
        let cert_type = person_str(&rec, "mdtrt_cert_type");
        let cert_no = person_str(&rec, "mdtrt_cert_no");
        let now = self.now();
        // What 2201, 2203 and 2204 send is the visit: the HIS's, or the one the cashier
        // built from the dictionaries (clinic mode). Without one nothing is sent.
        let visit: nhsa::visit::Visit = crate::ctx_of(&rec, "visit").ok_or_else(|| {
            CheckoutError::input(
                "没有就诊信息：请从 HIS 取待缴费医嘱，或选择就诊医生并录入诊断（诊所模式）",
            )
        })?;
        let med_type = match ctx_str(&rec, "med_type") {
            m if m.is_empty() => "11".to_string(),
            m => m,
        };
        super::bill::check_med_type(&rec, &med_type, &visit)?;
        let lines = self.order_lines(lines, &visit).await?;
        // Class, 先自付 ratio and price cap from the synced catalogue (the authority).
        let lines = self.with_synced_catalogue(lines).await?;
        if rec.mdtrt_id.is_none() {
            let register =
                nhsa::inputs::register_visit(&psn_no, &insutype, &cert_type, &cert_no, &visit);
            let r = self
                .call_ok(op, Some(id), &insuplc, Infno::Register, register)
                .await?;
            let mdtrt = r.output["data"]["mdtrt_id"]
                .as_str()
                .unwrap_or("")
                .to_string();
            if mdtrt.is_empty() {
                return Err(CheckoutError::new(
                    ErrorCode::SystemFault,
                    "挂号失败：中心未返回就诊ID",
                    "请重试",
                ));
            }
            rec.mdtrt_id = Some(mdtrt);
            rec.ipt_otp_no = Some(visit.ipt_otp_no.clone());
            self.save(op, &mut rec).await?;
            self.call_ok(
                op,
                Some(id),
                &insuplc,
                Infno::VisitUpload,
                nhsa::inputs::visit_upload_visit(
                    rec.mdtrt_id.as_deref().unwrap_or(""),
                    &psn_no,
                    &med_type,
                    &visit,
                ),
            )
            .await?;
        }
        let mdtrt = rec.mdtrt_id.clone().unwrap_or_default();
        // A fresh batch for every upload; earlier unsettled lines are withdrawn first.
        if rec.chrg_bchno.is_some() {
            self.call_ok(
                op,
                Some(id),
                &insuplc,
                Infno::FeeCancel,
                nhsa::inputs::fee_cancel(&mdtrt, "0000", &psn_no),
            )
            .await?;
        }
        let bch = format!("B{}", now.format("%Y%m%d%H%M%S%3f"));
        let sns: Vec<String> = (1..=lines.len()).map(|k| format!("{bch}-{k:03}")).collect();
        let cnts: Vec<String> = lines.iter().map(|l| l.cnt.to_string()).collect();
        let prics: Vec<String> = lines.iter().map(|l| l.pric.to_string()).collect();
        let codes: Vec<String> = lines
            .iter()
            .map(|l| l.med_list_codg.clone().unwrap_or_default())
            .collect();
        let details: Vec<nhsa::inputs::FeeDetail> = lines
            .iter()
            .enumerate()
            .map(|(k, l)| nhsa::inputs::FeeDetail {
                feedetl_sn: &sns[k],
                med_list_codg: &codes[k],
                medins_list_codg: &l.order.medins_list_codg,
                name: &l.name,
                cnt: &cnts[k],
                pric: &prics[k],
                det_item_fee_sumamt: l.amount(),
                rxno: &l.order.rxno,
                bilg_dept_codg: &l.order.bilg_dept_codg,
                bilg_dept_name: &l.order.bilg_dept_name,
                bilg_dr_codg: &l.order.bilg_dr_codg,
                bilg_dr_name: &l.order.bilg_dr_name,
                hosp_appr_flag: &l.order.hosp_appr_flag,
            })
            .collect();
        // The 病种 on every line of a 慢特病 batch; the fees arose at the visit (an
        // offline checkout replayed later keeps its own time).
        let dise_codg = if med_type == "14" {
            visit.dise_codg.as_str()
        } else {
            ""
        };
        rec.chrg_bchno = Some(bch.clone());
        self.save(op, &mut rec).await?;
        let r = self
            .call_ok(
                op,
                Some(id),
                &insuplc,
                Infno::FeeUpload,
                nhsa::inputs::fee_upload(
                    &mdtrt,
                    &psn_no,
                    &bch,
                    dise_codg,
                    &visit.begntime,
                    &details,
                ),
            )
            .await?;
        let rows: Vec<nhsa::types::FeeResult> =
            serde_json::from_value(r.output["result"].clone()).unwrap_or_default();
        for row in &rows {
            row.check_identity().map_err(|e| {
                CheckoutError::new(
                    ErrorCode::SystemFault,
                    "中心返回的费用明细金额不平",
                    "请联系信息科；本次可按自费收取",
                )
                .with_detail(e)
            })?;
        }
        let medfee: Fen = lines.iter().map(BillLine::amount).sum();
        let pre_in = nhsa::inputs::pre_settle(
            &psn_no, &cert_type, &cert_no, &med_type, medfee, &mdtrt, &bch, acct_used, &insutype,
        );
        let r = self
            .call_ok(op, Some(id), &insuplc, Infno::PreSettle, pre_in.clone())
            .await?;
        let info = r.output["setlinfo"].clone();
        let s: nhsa::types::Setlinfo = serde_json::from_value(info.clone()).map_err(|e| {
            CheckoutError::new(
                ErrorCode::SystemFault,
                "中心返回的预结算结果无法识别",
                "请重试",
            )
            .with_detail(e.to_string())
        })?;
        s.check_identities(&info).map_err(|e| {
            CheckoutError::new(
                ErrorCode::SystemFault,
                "中心返回的预结算金额不平",
                "请联系信息科；本次可按自费收取",
            )
            .with_detail(e)
        })?;
        if s.medfee_sumamt != Some(medfee) {
            return Err(CheckoutError::new(
                ErrorCode::SystemFault,
                "中心预结算总额与账单不符",
                "请重新预结算",
            )
            .with_detail(format!("{:?} ≠ {medfee}", s.medfee_sumamt)));
        }
        // The center's line figures against the billing engine on our own catalogue:
        // a difference means the two catalogues disagree (class, price cap, 先行自付).
        let notes = catalogue_differences(&s, &lines);
        if !notes.is_empty() {
            tracing::warn!(checkout = %id, ?notes, "2206 differs from the local catalogue");
        }
        set_ctx(&mut rec, "discrepancies", json!(notes));
        // 事前事中: the center's rules on the visit and its orders, before money moves.
        self.analyse(op, &mut rec, &visit, &lines).await?;
        set_ctx(&mut rec, "presettle", info);
        set_ctx(&mut rec, "pre_input", pre_in);
        set_ctx(&mut rec, "acct_used", json!(acct_used));
        advance(&mut rec, Event::Presettled)?;
        self.save(op, &mut rec).await?;
        self.view(id).await
    }
}

impl Engine {
    /// The lines as 2204 sends them: each with the hospital's own code (from the order,
    /// or the catalogue's mapping of its national code), and the ordering department
    /// and doctor (the order's, or in clinic mode the visit's). A line the hospital has
    /// not mapped is refused before 2204, naming it.
    async fn order_lines(
        &self,
        lines: Vec<BillLine>,
        visit: &nhsa::visit::Visit,
    ) -> Result<Vec<BillLine>> {
        // One question for the bill, not one per line.
        let has_mapping = self.ledger.hosp_items_count().await? > 0;
        let mut mapped = Vec::with_capacity(lines.len());
        for mut l in lines {
            if has_mapping {
                self.mapped(&mut l).await?;
            }
            mapped.push(l);
        }
        mapped
            .into_iter()
            .map(|mut l| {
                let o = &mut l.order;
                if o.medins_list_codg.is_empty() {
                    if let Some(it) = l
                        .med_list_codg
                        .as_deref()
                        .and_then(|c| self.cfg.catalog.get(c))
                    {
                        o.medins_list_codg = it.hosp_code.clone();
                    }
                }
                if o.medins_list_codg.is_empty()
                    || l.med_list_codg.as_deref().unwrap_or("").is_empty()
                {
                    return Err(CheckoutError::input(format!(
                        "「{}」未对照：没有本院项目编码或医保目录编码，请信息科维护目录对照",
                        l.name
                    )));
                }
                if o.bilg_dr_codg.is_empty() {
                    o.bilg_dr_codg = visit.atddr_no.clone();
                    o.bilg_dr_name = visit.dr_name.clone();
                }
                if o.bilg_dept_codg.is_empty() {
                    o.bilg_dept_codg = visit.dept_code.clone();
                    o.bilg_dept_name = visit.dept_name.clone();
                }
                if o.hosp_appr_flag.is_empty() {
                    o.hosp_appr_flag = "0".into();
                }
                Ok(l)
            })
            .collect()
    }
}

/// Line-level figures of a 2206 answer that differ from the billing engine's line
/// split (2204 semantics) of the same bill on the local catalogue.
pub(crate) fn catalogue_differences(
    center: &nhsa::types::Setlinfo,
    lines: &[BillLine],
) -> Vec<String> {
    let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
    let splits: Vec<billing::LineSplit> = lines.iter().map(BillLine::split).collect();
    let sum = |f: fn(&billing::LineSplit) -> Fen| splits.iter().map(f).sum::<Fen>();
    [
        (
            "全自费金额",
            z(center.fulamt_ownpay_amt),
            sum(|l| l.fulamt_ownpay_amt),
        ),
        (
            "超限价自费金额",
            z(center.overlmt_selfpay),
            sum(|l| l.overlmt_amt),
        ),
        (
            "先行自付金额",
            z(center.preselfpay_amt),
            sum(|l| l.preselfpay_amt),
        ),
        (
            "符合政策范围金额",
            z(center.inscp_scp_amt),
            sum(|l| l.inscp_scp_amt),
        ),
    ]
    .into_iter()
    .filter(|(_, c, l)| c != l)
    .map(|(label, c, l)| format!("{label}：中心 {c} 元，本院目录 {l} 元（请信息科核对目录对照）"))
    .collect()
}
