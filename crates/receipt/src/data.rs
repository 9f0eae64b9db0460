//! What a receipt shows (§4.2), independent of the layout.

use money::Fen;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// A settlement.
    Sale,
    /// The refund of a settlement (references the original).
    Refund,
    /// An offline collection: the fee statement the patient keeps — for the queued
    /// settlement, or for 手工报销 at the insurance office should it never be made.
    OfflineStatement,
}

/// One fee category (§4.3) with its total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeGroup {
    pub category: String,
    pub amount: Fen,
    /// The lines of the group: (name, cnt × pric text, amount).
    pub lines: Vec<(String, String, Fen)>,
}

/// One line of the split (label, amount, optional note such as the channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitLine {
    pub label: String,
    pub amount: Fen,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptData {
    pub kind: ReceiptKind,
    pub institution: String,
    pub receipt_no: String,
    /// `yyyy-MM-dd HH:mm:ss`.
    pub time: String,
    pub cashier: String,
    /// Already masked when the hospital's setting says so.
    pub patient: String,
    pub insutype: String,
    pub med_type: String,
    pub groups: Vec<FeeGroup>,
    pub total: Fen,
    /// 医保统筹基金支付, other funds, 个人账户支付, 共济支付, 个人现金支付 (with channel).
    pub split: Vec<SplitLine>,
    /// 个人自付: the policy-range part the person bears.
    pub self_pay_in_scope: Fen,
    /// 个人自费: 丙类 and over-price-cap parts.
    pub self_pay_out_of_scope: Fen,
    pub balance_after: Option<Fen>,
    pub setl_id: String,
    /// For a refund: the settlement it cancels.
    pub orig_setl_id: Option<String>,
    /// Marked 补打 when printed again.
    #[serde(default)]
    pub reprint: bool,
    /// Lines at the foot (an offline statement's explanation).
    #[serde(default)]
    pub notes: Vec<String>,
}

impl ReceiptData {
    pub fn title(&self) -> &'static str {
        match self.kind {
            ReceiptKind::Sale => "门诊收费收据",
            ReceiptKind::Refund => "门诊退费收据",
            ReceiptKind::OfflineStatement => "门诊费用清单（离线收费）",
        }
    }
    pub fn total_capital(&self) -> String {
        let words = money::capital(self.total.abs());
        if self.total.is_negative() {
            format!("负{words}")
        } else {
            words
        }
    }
}
