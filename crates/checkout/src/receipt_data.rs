//! The receipt of a settlement or refund, from the ledger.

use billing::BillLine;
use ledger::PaymentChannel;
use money::Fen;
use receipt::{FeeGroup, ReceiptData, ReceiptKind, SplitLine};
use serde_json::Value;

use crate::{view, CheckoutError, Engine, Result};

impl Engine {
    /// The receipt data for a checkout's settlement (or its refund). The
    /// patient's name is masked when `mask` is set (the hospital's setting).
    pub async fn receipt_data(
        &self,
        checkout_id: &str,
        refund: bool,
        mask: bool,
    ) -> Result<ReceiptData> {
        let rec = self.load(checkout_id).await?;
        let setl_id = rec
            .setl_id
            .clone()
            .ok_or_else(|| CheckoutError::state("这笔收费没有医保结算，没有医保收据"))?;
        let settlements = self.ledger.settlements_of_checkout(checkout_id).await?;
        let s = if refund {
            settlements
                .iter()
                .rev()
                .find(|s| s.kind == ledger::SettlementKind::Cancel)
        } else {
            settlements.iter().find(|s| s.setl_id == setl_id)
        }
        .ok_or_else(|| CheckoutError::state("账本中没有这笔结算"))?;
        let info: nhsa::types::Setlinfo =
            serde_json::from_value(s.response.get("setlinfo").cloned().unwrap_or(Value::Null))
                .unwrap_or_default();
        let z = |f: Option<Fen>| f.unwrap_or(Fen::ZERO);
        let sign = if refund { -1 } else { 1 };
        let lines = view::lines_of(&rec);
        let groups = fee_groups(&lines, sign);
        let payments = self.ledger.payments_of_checkout(checkout_id).await?;
        let channel = payments
            .iter()
            .filter(|p| {
                matches!(
                    p.payment.channel,
                    PaymentChannel::Cash | PaymentChannel::Card
                )
            })
            .map(|p| p.payment.channel.name_zh())
            .next_back()
            .map(str::to_owned);
        let other = info.other_fund_pay();
        let out_of_scope = z(info.fulamt_ownpay_amt) + z(info.overlmt_selfpay);
        let person = rec.person.clone().unwrap_or(Value::Null);
        let name = person
            .get("psn_name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let insutype = person.get("insutype").and_then(Value::as_str).unwrap_or("");
        let cashier = match self.ledger.operator(&rec.operator_id).await? {
            Some(o) => format!("{} {}", o.id, o.name),
            None => rec.operator_id.clone(),
        };
        let total: Fen = lines.iter().map(BillLine::amount).sum();
        Ok(ReceiptData {
            kind: if refund {
                ReceiptKind::Refund
            } else {
                ReceiptKind::Sale
            },
            institution: self.cfg.institution.fixmedins_name.clone(),
            receipt_no: format!("R{}", s.setl_id),
            time: s
                .setl_time
                .clone()
                .unwrap_or_else(|| rec.updated_at.chars().take(19).collect()),
            cashier,
            patient: if mask {
                voucher::mask_name(&name)
            } else {
                name
            },
            insutype: view::insutype_name(insutype).into(),
            med_type: match rec
                .ctx
                .get("med_type")
                .and_then(Value::as_str)
                .unwrap_or("11")
            {
                "14" => "门诊慢特病".into(),
                _ => "普通门诊".into(),
            },
            groups,
            total: Fen(total.0 * sign),
            split: vec![
                SplitLine {
                    label: "医保统筹基金支付".into(),
                    amount: z(info.hifp_pay),
                    note: None,
                },
                SplitLine {
                    label: "其他基金支付".into(),
                    amount: other,
                    note: None,
                },
                SplitLine {
                    label: "个人账户支付".into(),
                    amount: z(info.acct_pay),
                    note: None,
                },
                SplitLine {
                    label: "共济支付".into(),
                    amount: z(info.acct_mulaid_pay),
                    note: None,
                },
                SplitLine {
                    label: "个人现金支付".into(),
                    amount: z(info.psn_cash_pay),
                    note: channel,
                },
            ],
            notes: Vec::new(),
            self_pay_in_scope: z(info.psn_part_amt) - out_of_scope,
            self_pay_out_of_scope: out_of_scope,
            balance_after: info.balc,
            setl_id: s.setl_id.clone(),
            orig_setl_id: s.orig_setl_id.clone(),
            reprint: false,
        })
    }
}

/// The fee lines of a bill grouped by category (§4.3), amounts times `sign`.
fn fee_groups(lines: &[BillLine], sign: i64) -> Vec<FeeGroup> {
    let mut groups: Vec<FeeGroup> = Vec::new();
    for l in lines {
        let cat = billing::fee_category_name(&l.med_chrgitm_type).to_string();
        let amt = Fen(l.amount().0 * sign);
        let item = (l.name.clone(), format!("{}×{}", l.cnt, l.pric), amt);
        match groups.iter_mut().find(|g| g.category == cat) {
            Some(g) => {
                g.amount += amt;
                g.lines.push(item);
            }
            None => groups.push(FeeGroup {
                category: cat,
                amount: amt,
                lines: vec![item],
            }),
        }
    }
    groups
}

impl Engine {
    /// The statement of an offline collection: every fee line, what was collected and
    /// how, and what becomes of the insurance part — the queued settlement, or, should
    /// it never be made, 手工报销 with this statement. The estimate mode says it needs
    /// the region's approval.
    pub async fn offline_statement(&self, checkout_id: &str, mask: bool) -> Result<ReceiptData> {
        let rec = self.load(checkout_id).await?;
        if rec.mode == ledger::CheckoutMode::Online {
            return Err(CheckoutError::state("这笔不是离线收费，请打印医保收据"));
        }
        let lines = view::lines_of(&rec);
        let total: Fen = lines.iter().map(BillLine::amount).sum();
        let payments = self.ledger.payments_of_checkout(checkout_id).await?;
        let split: Vec<SplitLine> = payments
            .iter()
            .filter(|p| {
                matches!(
                    p.payment.channel,
                    PaymentChannel::Cash | PaymentChannel::Card
                )
            })
            .map(|p| SplitLine {
                label: "离线收取".into(),
                amount: p.payment.amount,
                note: Some(p.payment.channel.name_zh().into()),
            })
            .collect();
        let collected: Fen = split.iter().map(|s| s.amount).sum();
        let estimate = rec.ctx.get("estimate").is_some_and(|v| !v.is_null());
        let person = rec.person.clone().unwrap_or(Value::Null);
        let name = person
            .get("offline_name")
            .or_else(|| person.get("psn_name"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let queued = crate::person_str(&rec, "offline_certno").len() == 18;
        let mut notes = vec![format!("医保中心离线，本次收取 {collected} 元。")];
        notes.push(if estimate {
            "按本地估算收取个人自付部分（此方式须经本地区医保部门同意后启用）。".into()
        } else {
            "本次全额按自费收取。".into()
        });
        notes.push(if queued {
            "医保结算已排队，网络恢复后自动补传，差额按规定多退少补。".into()
        } else {
            "未登记身份证，医保不补传结算。".into()
        });
        notes.push("如未能补传结算，可凭本清单到参保地医保经办机构办理手工报销。".into());
        let cashier = match self.ledger.operator(&rec.operator_id).await? {
            Some(o) => format!("{} {}", o.id, o.name),
            None => rec.operator_id.clone(),
        };
        Ok(ReceiptData {
            kind: ReceiptKind::OfflineStatement,
            institution: self.cfg.institution.fixmedins_name.clone(),
            receipt_no: format!("L{}", &rec.id.replace('-', "")[..12]),
            time: rec.created_at.chars().take(19).collect(),
            cashier,
            patient: if mask {
                voucher::mask_name(&name)
            } else {
                name
            },
            insutype: String::new(),
            med_type: "普通门诊".into(),
            groups: fee_groups(&lines, 1),
            total,
            split,
            self_pay_in_scope: Fen::ZERO,
            self_pay_out_of_scope: Fen::ZERO,
            balance_after: None,
            setl_id: rec.id.clone(),
            orig_setl_id: None,
            reprint: false,
            notes,
        })
    }
}
