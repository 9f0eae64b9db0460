//! Resolving the patient: a scanned code or a 身份证 number → 1162 → 1101.

use billing::RegionKind;
use ledger::{CheckoutRecord, CheckoutState};
use money::Fen;
use nhsa::types::PsnInfo;
use nhsa::Infno;
use serde_json::{json, Value};

use super::*;
use crate::machine::Event;
use crate::view::{self, CheckoutView, PersonView};
use crate::{ctx_str, set_ctx, CheckoutError, Engine, ErrorCode, Operator, Result};

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
                        nhsa::inputs::qr_decode(
                            &code,
                            &self.cfg.institution.fixmedins_code,
                            &op.id,
                            &op.name,
                            &self.cfg.dept_code,
                            &self.cfg.dept_name,
                        ),
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

    pub(crate) async fn resolve_person(
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
        let rec = self.load(id).await?;
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
        // 门诊慢特病 registrations (5301): the 慢特病 choice, and the check of a
        // med_type 14 bill before 2201. A failed query leaves the list empty (14 is
        // then refused, never guessed).
        let psn_no = b.psn_no.clone().unwrap_or_default();
        let opsp = match self
            .call_ok(
                op,
                Some(id),
                main.insuplc_admdvs.as_deref().unwrap_or(""),
                Infno::ChronicQuery,
                nhsa::inputs::chronic_query(&psn_no),
            )
            .await
        {
            Ok(r) => parse_registrations(&r.output, &self.now().format("%Y-%m-%d").to_string()),
            Err(e) => {
                tracing::warn!(checkout = %id, error = %e, "5301 failed: no 慢特病 registrations known");
                Vec::new()
            }
        };
        let mut rec = self.load(id).await?;
        set_ctx(&mut rec, "opsp", json!(opsp));
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
}

/// One 门诊慢特病 registration of the person (5301's `feedetail` row).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Registration {
    pub code: String,
    pub name: String,
    pub begndate: String,
    pub enddate: String,
}

/// The person's registrations as 5301 answered them at resolve time.
pub(crate) fn registrations(rec: &CheckoutRecord) -> Vec<Registration> {
    crate::ctx_of(rec, "opsp").unwrap_or_default()
}

pub(crate) fn not_registered(code: &str) -> CheckoutError {
    CheckoutError::new(
        ErrorCode::Input,
        format!("该参保人未备案门诊慢特病病种 {code}，不能按门诊慢特病（14）结算"),
        "请按普通门诊结算，或请患者先办理慢特病备案",
    )
}

/// Read 5301's answer: the registrations valid on `today` (YYYY-MM-DD).
pub(crate) fn parse_registrations(output: &Value, today: &str) -> Vec<Registration> {
    output["feedetail"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    let g = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    Registration {
                        code: g("opsp_dise_code"),
                        name: g("opsp_dise_name"),
                        begndate: g("begndate"),
                        enddate: g("enddate"),
                    }
                })
                .filter(|r| {
                    !r.code.is_empty()
                        && (r.begndate.is_empty() || r.begndate.as_str() <= today)
                        && (r.enddate.is_empty() || today <= r.enddate.as_str())
                })
                .collect()
        })
        .unwrap_or_default()
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
