//! The online steps of a checkout.

use billing::{BillLine, RegionKind};
use ledger::{
    CheckoutMode, CheckoutRecord, CheckoutState, NewPayment, PaymentChannel, SettlementKind,
    SettlementRecord,
};
use money::Fen;
use nhsa::types::PsnInfo;
use nhsa::Infno;
use serde_json::{json, Value};

use crate::machine::{stage_of, transition, Event, Prior};
use crate::view::{self, CheckoutView, PersonView};
use crate::{
    ctx_of, ctx_str, person_str, set_ctx, CheckoutError, Engine, ErrorCode, Job, Operator, Result,
    Sent,
};

/// How the rest is paid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Pay {
    /// Cash: `given` is what the patient handed over.
    Cash { given: Fen },
    /// Bank card: the terminal's reference (参考号).
    Card { reference: String },
}

impl Engine {
    /// A new, empty checkout.
    pub async fn start(&self, op: &Operator) -> Result<CheckoutView> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut rec = CheckoutRecord::new(&id, &op.id, self.now());
        set_ctx(&mut rec, "acct_used", json!(true));
        self.save(op, &mut rec).await?;
        self.view(&id).await
    }

    /// A scanned string: check it locally, then 1162 → 1101.
    pub async fn resolve_qr(&self, op: &Operator, id: &str, text: &str) -> Result<CheckoutView> {
        let rec = self.load(id).await?;
        check(&rec, Event::Resolved { has_lines: false })?;
        match voucher::classify(text) {
            voucher::Scanned::MedicalQr { code } => {
                // A code is single-use at the counter too: the same code on two open
                // checkouts at once would settle twice.
                let hash = nhsa::sm::sm3_hex(code.as_bytes());
                let open = self
                    .ledger
                    .checkouts(
                        &[
                            CheckoutState::New,
                            CheckoutState::Resolved,
                            CheckoutState::Billed,
                            CheckoutState::Presettled,
                            CheckoutState::Settling,
                        ],
                        200,
                    )
                    .await?;
                if open
                    .iter()
                    .any(|c| c.id != id && ctx_str(c, "qr_sm3") == hash)
                {
                    return Err(CheckoutError::new(
                        ErrorCode::CodeInUse,
                        "这个医保码已在另一笔未完成的收费中使用",
                        "请先完成或取消那一笔；或请患者刷新医保码后重新扫码",
                    ));
                }
                let r = self
                    .call_ok(
                        op,
                        Some(id),
                        "",
                        Infno::QrDecode,
                        nhsa::inputs::qr_decode(&code, &op.id, &op.name, &self.cfg.dept_name),
                    )
                    .await?;
                let d: nhsa::types::EcInfo = serde_json::from_value(r.output["data"].clone())
                    .map_err(|e| {
                        CheckoutError::new(
                            ErrorCode::SystemFault,
                            "中心返回的电子凭证信息无法识别",
                            "请重新扫码",
                        )
                        .with_detail(e.to_string())
                    })?;
                let token = d.ec_token.ok_or_else(|| {
                    CheckoutError::new(
                        ErrorCode::SystemFault,
                        "中心未返回电子凭证令牌",
                        "请重新扫码",
                    )
                })?;
                let mut rec = self.load(id).await?;
                set_ctx(&mut rec, "qr_sm3", json!(hash));
                self.save(op, &mut rec).await?;
                self.resolve_person(
                    op,
                    id,
                    "01",
                    &token,
                    d.id_no.as_deref().unwrap_or(""),
                    d.user_name.as_deref().unwrap_or(""),
                )
                .await
            }
            voucher::Scanned::IdCard { number } => {
                self.resolve_person(op, id, "02", &number, &number, "")
                    .await
            }
            other => {
                let msg = other.message_zh().unwrap_or("无法识别的二维码");
                Err(CheckoutError::new(
                    ErrorCode::WrongCode,
                    msg,
                    "请患者打开医保码（医保电子凭证）后重新扫码，或按 F3 输入身份证号",
                ))
            }
        }
    }

    /// Manual entry of a 身份证 number (type 02), with the name to check.
    pub async fn resolve_id(
        &self,
        op: &Operator,
        id: &str,
        certno: &str,
        name: &str,
    ) -> Result<CheckoutView> {
        let certno = certno.trim().to_uppercase();
        if !voucher::id_checksum_ok(&certno) {
            return Err(CheckoutError::input(
                "身份证号码有误（18位，校验位不符），请核对后重新输入",
            ));
        }
        let rec = self.load(id).await?;
        check(&rec, Event::Resolved { has_lines: false })?;
        self.resolve_person(op, id, "02", &certno, &certno, name.trim())
            .await
    }

    async fn resolve_person(
        &self,
        op: &Operator,
        id: &str,
        cert_type: &str,
        cert_no: &str,
        certno: &str,
        name: &str,
    ) -> Result<CheckoutView> {
        let input = if cert_type == "01" {
            nhsa::inputs::person_info("01", cert_no, certno, name)
        } else {
            nhsa::inputs::person_info("02", cert_no, "", name)
        };
        let r = self
            .call_ok(op, Some(id), "", Infno::PersonInfo, input)
            .await?;
        let info: PsnInfo = serde_json::from_value(r.output.clone()).map_err(|e| {
            CheckoutError::new(
                ErrorCode::SystemFault,
                "中心返回的人员信息无法识别",
                "请重试",
            )
            .with_detail(e.to_string())
        })?;
        let main = info.main_insuinfo().cloned().ok_or_else(|| {
            CheckoutError::new(
                ErrorCode::Suspended,
                "未查询到该患者的参保信息",
                "本次请按自费收取",
            )
        })?;
        let mut rec = self.load(id).await?;
        let b = &info.baseinfo;
        let person = json!({
            "psn_no": b.psn_no, "psn_name": b.psn_name, "certno": b.certno, "gend": b.gend, "brdy": b.brdy, "age": b.age,
            "insutype": main.insutype, "psn_type": main.psn_type, "balc": main.balc.unwrap_or(Fen::ZERO),
            "insuplc_admdvs": main.insuplc_admdvs, "psn_insu_stas": main.psn_insu_stas, "emp_name": main.emp_name,
            "cvlserv_flag": main.cvlserv_flag, "mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no,
            "idet": info.idetinfo,
        });
        // An offline checkout keeps the 身份证 its settlement is replayed with: a replay
        // that stopped after 1101 must find it again next time.
        let mut person = person;
        if let Some(old) = &rec.person {
            for k in ["offline_certno", "offline_name"] {
                if let Some(v) = old.get(k) {
                    person[k] = v.clone();
                }
            }
        }
        rec.psn_no = b.psn_no.clone();
        rec.insutype = main.insutype.clone();
        rec.person = Some(person);
        // A new person: forget an earlier visit of this checkout.
        rec.mdtrt_id = None;
        rec.chrg_bchno = None;
        let has_lines = !view::lines_of(&rec).is_empty();
        advance(&mut rec, Event::Resolved { has_lines })?;
        self.save(op, &mut rec).await?;
        self.view(id).await
    }

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
        let t = now.format("%Y-%m-%d %H:%M:%S").to_string();
        if rec.mdtrt_id.is_none() {
            let otp = format!("M{}", &id.replace('-', "")[..12]);
            let r = self
                .call_ok(
                    op,
                    Some(id),
                    &insuplc,
                    Infno::Register,
                    nhsa::inputs::register(
                        &psn_no,
                        &insutype,
                        &t,
                        &cert_type,
                        &cert_no,
                        &otp,
                        &op.id,
                        &self.cfg.dept_name,
                    ),
                )
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
            rec.ipt_otp_no = Some(otp);
            self.save(op, &mut rec).await?;
            let (dise, dise_name) = chronic(&rec);
            let med_type = if dise.is_empty() { "11" } else { "14" };
            set_ctx(&mut rec, "med_type", json!(med_type));
            self.call_ok(
                op,
                Some(id),
                &insuplc,
                Infno::VisitUpload,
                nhsa::inputs::visit_upload(
                    rec.mdtrt_id.as_deref().unwrap_or(""),
                    &psn_no,
                    med_type,
                    &t,
                    &dise,
                    &dise_name,
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
                medins_list_codg: &codes[k],
                name: &l.name,
                cnt: &cnts[k],
                pric: &prics[k],
                det_item_fee_sumamt: l.amount(),
            })
            .collect();
        rec.chrg_bchno = Some(bch.clone());
        self.save(op, &mut rec).await?;
        let r = self
            .call_ok(
                op,
                Some(id),
                &insuplc,
                Infno::FeeUpload,
                nhsa::inputs::fee_upload(&mdtrt, &psn_no, &bch, &t, &details),
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
        let med_type = ctx_str(&rec, "med_type");
        let med_type = if med_type.is_empty() {
            "11".to_string()
        } else {
            med_type
        };
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
        set_ctx(&mut rec, "presettle", info);
        set_ctx(&mut rec, "pre_input", pre_in);
        set_ctx(&mut rec, "acct_used", json!(acct_used));
        advance(&mut rec, Event::Presettled)?;
        self.save(op, &mut rec).await?;
        self.view(id).await
    }

    /// Settle (2207) with the 2206 figures. An answer lost in the network is
    /// reversed (2601) before anything else can happen.
    pub async fn settle(&self, op: &Operator, id: &str) -> Result<CheckoutView> {
        // This step owns the checkout until the 2207's outcome is booked: a recovery or
        // a queue replay running meanwhile leaves it alone.
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::SettleSent)?;
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
                    Ok(()) => return self.view(id).await,
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

    /// Collect the rest: cash with change, or card with the terminal's reference.
    pub async fn pay(&self, op: &Operator, id: &str, pay: Pay) -> Result<CheckoutView> {
        let _claim = self.ledger.claim(id)?;
        let mut rec = self.load(id).await?;
        check(&rec, Event::Paid)?;
        let v = self.view(id).await?;
        let due = v.due;
        let p = match pay {
            Pay::Cash { given } => {
                if given < due {
                    return Err(CheckoutError::input(format!(
                        "实收 {given} 元少于应收 {due} 元"
                    )));
                }
                NewPayment {
                    checkout_id: id.into(),
                    setl_id: rec.setl_id.clone(),
                    channel: PaymentChannel::Cash,
                    amount: due,
                    given: Some(given),
                    change: Some(given - due),
                    reference: None,
                    note: None,
                }
            }
            Pay::Card { reference } => {
                let reference = reference.trim().to_string();
                if reference.is_empty() {
                    return Err(CheckoutError::input("请输入刷卡终端的参考号"));
                }
                NewPayment {
                    checkout_id: id.into(),
                    setl_id: rec.setl_id.clone(),
                    channel: PaymentChannel::Card,
                    amount: due,
                    given: None,
                    change: None,
                    reference: Some(reference),
                    note: None,
                }
            }
        };
        advance(&mut rec, Event::Paid)?;
        self.ledger
            .record_payment(&p, Some(&rec), &op.id, self.now())
            .await?;
        self.view(id).await
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
        let reason = reason.trim();
        if reason.chars().count() < 2 {
            return Err(CheckoutError::input("请写明接受该结算结果的理由"));
        }
        let sup = self
            .confirm_supervisor(supervisor_id, supervisor_password)
            .await?;
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

    async fn confirm_supervisor(&self, id: &str, password: &str) -> Result<ledger::Operator> {
        self.ledger
            .confirm_supervisor(id, password, self.now())
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
        })
    }
}

/// Line-level figures of a 2206 answer that differ from the billing engine's line
/// split (2204 semantics) of the same bill on the local catalogue.
fn catalogue_differences(center: &nhsa::types::Setlinfo, lines: &[BillLine]) -> Vec<String> {
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

/// Parts of a 2207 answer that cannot be right whatever the policy: a negative
/// part, or a part larger than the whole bill.
fn out_of_range(s: &nhsa::types::Setlinfo) -> Vec<String> {
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
fn settle_differences(pre: &nhsa::types::Setlinfo, s: &nhsa::types::Setlinfo) -> Vec<String> {
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

/// The ledger's record of a 2207/2208 answer.
fn settlement_record(
    rec: &CheckoutRecord,
    msgid: &str,
    kind: SettlementKind,
    setl_id: &str,
    orig: Option<&str>,
    s: &nhsa::types::Setlinfo,
    output: &Value,
) -> SettlementRecord {
    let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
    SettlementRecord {
        setl_id: setl_id.into(),
        checkout_id: rec.id.clone(),
        msgid: msgid.into(),
        kind,
        orig_setl_id: orig.map(str::to_owned),
        psn_no: s.psn_no.clone().or(rec.psn_no.clone()).unwrap_or_default(),
        mdtrt_id: s
            .mdtrt_id
            .clone()
            .or(rec.mdtrt_id.clone())
            .unwrap_or_default(),
        insutype: s.insutype.clone(),
        clr_type: s.clr_type.clone(),
        clr_optins: s.clr_optins.clone(),
        clr_way: s.clr_way.clone(),
        medfee_sumamt: z(s.medfee_sumamt),
        fund_pay_sumamt: z(s.fund_pay_sumamt),
        acct_pay: z(s.acct_pay),
        acct_mulaid_pay: z(s.acct_mulaid_pay),
        psn_cash_pay: z(s.psn_cash_pay),
        hosp_part_amt: z(s.hosp_part_amt),
        balc: s.balc,
        setl_time: s.setl_time.clone(),
        cancelled_by: None,
        response: output.clone(),
    }
}

/// The fund, account, 共济 and hospital parts of a settlement as payments.
fn fund_payments(checkout_id: &str, r: &SettlementRecord, note: Option<&str>) -> Vec<NewPayment> {
    [
        (PaymentChannel::Fund, r.fund_pay_sumamt),
        (PaymentChannel::Account, r.acct_pay),
        (PaymentChannel::MutualAid, r.acct_mulaid_pay),
        (PaymentChannel::Hospital, r.hosp_part_amt),
    ]
    .into_iter()
    .filter(|(_, amt)| *amt != Fen::ZERO)
    .map(|(channel, amount)| NewPayment {
        checkout_id: checkout_id.into(),
        setl_id: Some(r.setl_id.clone()),
        channel,
        amount,
        given: None,
        change: None,
        reference: None,
        note: note.map(str::to_owned),
    })
    .collect()
}

fn chronic(rec: &CheckoutRecord) -> (String, String) {
    let idet = rec
        .person
        .as_ref()
        .and_then(|p| p.get("idet"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for i in idet {
        let memo = i.get("memo").and_then(Value::as_str).unwrap_or("");
        if let Some(rest) = memo.strip_prefix("门诊慢特病备案：") {
            let mut it = rest.splitn(2, ' ');
            return (
                it.next().unwrap_or("").into(),
                it.next().unwrap_or("").into(),
            );
        }
    }
    (String::new(), String::new())
}

pub(crate) fn person_view(p: &Value, hospital_admdvs: &str) -> PersonView {
    let g = |k: &str| match p.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let insutype = g("insutype");
    let insuplc = g("insuplc_admdvs");
    let region = match RegionKind::classify(&insuplc, hospital_admdvs) {
        RegionKind::Local => "本地",
        RegionKind::InProvince => "省内异地",
        RegionKind::CrossProvince => "跨省异地",
    };
    let mut notes = Vec::new();
    if g("psn_insu_stas") != "1" {
        notes.push("参保状态异常（暂停/终止），不能享受医保待遇，请按自费收取".to_string());
    }
    if region != "本地" {
        notes.push(format!(
            "{region}就医（参保地 {insuplc}），按异地就医政策结算"
        ));
    }
    let balc: Fen = p
        .get("balc")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or(Fen::ZERO);
    PersonView {
        psn_no: g("psn_no"),
        name: g("psn_name"),
        certno_masked: voucher::mask_id(&g("certno")),
        gend: match g("gend").as_str() {
            "1" => "男".into(),
            "2" => "女".into(),
            _ => String::new(),
        },
        age: g("age").split('.').next().unwrap_or("").to_string(),
        insutype_name: view::insutype_name(&insutype).into(),
        insutype,
        balc,
        insuplc_admdvs: insuplc,
        region: region.into(),
        psn_insu_stas: g("psn_insu_stas"),
        emp_name: g("emp_name"),
        notes,
    }
}

/// Refuse an event the checkout's state does not allow, before anything is sent.
pub(crate) fn check(rec: &CheckoutRecord, ev: Event) -> Result<()> {
    transition(rec.state, ev)
        .map(|_| ())
        .map_err(|r| CheckoutError::state(r.message_zh()))
}

/// Move the checkout on by an event (the caller saves it).
pub(crate) fn advance(rec: &mut CheckoutRecord, ev: Event) -> Result<()> {
    rec.state = transition(rec.state, ev).map_err(|r| CheckoutError::state(r.message_zh()))?;
    Ok(())
}
