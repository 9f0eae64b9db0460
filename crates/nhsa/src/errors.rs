//! What the center said, in the cashier's terms: each kind with a Chinese
//! message that says what to do next (docs/domain.md §2.4, 000_…txt).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// 电子凭证未激活 / 未生成.
    NotActivated,
    /// Not a 医保码 (a payment code, a screenshot, garbage).
    WrongCode,
    /// The code has expired (refreshes about every minute).
    CodeExpired,
    /// 个人账户余额不足.
    BalanceShort,
    /// The center could not be reached or did not answer.
    Network,
    /// 身份证/姓名 等个人信息不符.
    DataMismatch,
    /// 支付限额 / 日限额 exceeded.
    PaymentLimit,
    /// 参保地不符 / 异地未备案.
    RegionMismatch,
    /// 参保状态异常 (暂停/欠费/终止).
    Suspended,
    /// The center's own fault (系统异常, 数据库, 超时).
    SystemFault,
    /// Another business refusal, shown as the center worded it.
    Business,
    /// The operator's sign-in (9001) is stale or unknown at the center: sign in again.
    SignInStale,
    /// A 2601 for a message the center never received: nothing to reverse.
    NoSuchTransaction,
    /// A 2601 for a message already reversed.
    AlreadyReversed,
}

impl ErrorKind {
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::NotActivated => "not_activated",
            ErrorKind::WrongCode => "wrong_code",
            ErrorKind::CodeExpired => "code_expired",
            ErrorKind::BalanceShort => "balance_short",
            ErrorKind::Network => "network",
            ErrorKind::DataMismatch => "data_mismatch",
            ErrorKind::PaymentLimit => "payment_limit",
            ErrorKind::RegionMismatch => "region_mismatch",
            ErrorKind::Suspended => "suspended",
            ErrorKind::SystemFault => "system_fault",
            ErrorKind::Business => "business",
            ErrorKind::SignInStale => "sign_in_stale",
            ErrorKind::NoSuchTransaction => "no_such_transaction",
            ErrorKind::AlreadyReversed => "already_reversed",
        }
    }

    /// What happened, for the cashier.
    pub fn message_zh(self) -> &'static str {
        match self {
            ErrorKind::NotActivated => "患者的医保电子凭证尚未激活",
            ErrorKind::WrongCode => "扫到的不是医保电子凭证（可能是微信/支付宝付款码或截图）",
            ErrorKind::CodeExpired => "医保码已过期（每分钟自动刷新）",
            ErrorKind::BalanceShort => "个人账户余额不足",
            ErrorKind::Network => "连接不上医保中心（网络中断或中心无响应）",
            ErrorKind::DataMismatch => "患者个人信息与医保登记信息不符",
            ErrorKind::PaymentLimit => "超过医保支付限额",
            ErrorKind::RegionMismatch => "参保地不符或异地就医未备案",
            ErrorKind::Suspended => "患者参保状态异常（暂停参保或欠费）",
            ErrorKind::SystemFault => "医保中心系统故障",
            ErrorKind::Business => "医保中心拒绝了本次交易",
            ErrorKind::SignInStale => "操作员在医保中心的签到已失效",
            ErrorKind::NoSuchTransaction => "医保中心没有这笔原交易",
            ErrorKind::AlreadyReversed => "这笔交易此前已冲正",
        }
    }

    /// What to do next.
    pub fn action_zh(self) -> &'static str {
        match self {
            ErrorKind::NotActivated => {
                "请患者在国家医保服务平台App、微信或支付宝中激活医保电子凭证后重新出示；也可改用身份证办理"
            }
            ErrorKind::WrongCode => "请患者打开医保电子凭证（医保码）页面再扫；不要使用付款码或截图",
            ErrorKind::CodeExpired => "请患者刷新医保码后重新扫码",
            ErrorKind::BalanceShort => "账户不足部分请收取现金或银行卡",
            ErrorKind::Network => {
                "可改为离线收费，网络恢复后系统自动补传；或请患者稍候重试"
            }
            ErrorKind::DataMismatch => "请核对患者身份证件后重新识别，或请患者到医保窗口核实信息",
            ErrorKind::PaymentLimit => "超限部分请收取现金或银行卡，或分次结算",
            ErrorKind::RegionMismatch => "请患者先办理异地就医备案；未备案可按自费收取",
            ErrorKind::Suspended => "本次请按自费收取，并提醒患者到参保地医保经办机构处理参保状态",
            ErrorKind::SystemFault => "请稍后重试；持续故障请按自费收取并联系信息科",
            ErrorKind::Business => "请按提示处理，必要时按自费收取",
            ErrorKind::SignInStale => "系统将自动重新签到；如仍失败请签退后重新签到",
            ErrorKind::NoSuchTransaction => "无需冲正：中心未受理该交易",
            ErrorKind::AlreadyReversed => "无需再冲正",
        }
    }
}

/// Map a center message (and the 1162 `code`, when there is one) to a kind.
pub fn classify(err_msg: &str, code: Option<i64>) -> ErrorKind {
    if code == Some(500159) {
        return ErrorKind::WrongCode;
    }
    let m = err_msg;
    let has = |words: &[&str]| words.iter().any(|w| m.contains(w));
    // The answers the counter acts on by itself come first (the center's words are
    // matched here and nowhere else).
    if has(&["未签到", "签到流水号无效", "签到已失效"]) {
        ErrorKind::SignInStale
    } else if has(&["原交易不存在"]) {
        ErrorKind::NoSuchTransaction
    } else if has(&["已冲正"]) {
        ErrorKind::AlreadyReversed
    } else if has(&["未激活", "未开通", "未生成", "未申领"]) {
        ErrorKind::NotActivated
    } else if has(&[
        "请使用医保电子凭证",
        "付款码",
        "非医保",
        "无效的二维码",
        "二维码无效",
        "无法识别",
    ]) {
        ErrorKind::WrongCode
    } else if has(&["过期", "已失效", "超时失效", "已使用"]) {
        ErrorKind::CodeExpired
    } else if has(&["余额不足"]) {
        ErrorKind::BalanceShort
    } else if has(&["限额"]) {
        ErrorKind::PaymentLimit
    } else if has(&["参保地", "异地", "备案", "区划"]) {
        ErrorKind::RegionMismatch
    } else if has(&["暂停", "欠费", "中止", "终止参保", "参保状态", "停保"]) {
        ErrorKind::Suspended
    } else if has(&["不符", "不一致", "不匹配", "证件号码错误", "姓名错误"]) {
        ErrorKind::DataMismatch
    } else if has(&[
        "系统异常",
        "系统错误",
        "系统繁忙",
        "数据库",
        "内部错误",
        "服务不可用",
        "超时",
    ]) {
        ErrorKind::SystemFault
    } else {
        ErrorKind::Business
    }
}

#[cfg(test)]
mod no_keys {
    use super::ErrorKind as K;

    /// The interface crate words what to do, never which key of one screen does it
    /// (the network action once said F6 for offline collection, which is F10).
    #[test]
    fn no_message_or_action_names_a_key() {
        for k in [
            K::NotActivated,
            K::WrongCode,
            K::CodeExpired,
            K::BalanceShort,
            K::Network,
            K::DataMismatch,
            K::PaymentLimit,
            K::RegionMismatch,
            K::Suspended,
            K::SystemFault,
            K::Business,
            K::SignInStale,
            K::NoSuchTransaction,
            K::AlreadyReversed,
        ] {
            for text in [k.message_zh(), k.action_zh()] {
                let b = text.as_bytes();
                let named = b.windows(2).any(|w| w[0] == b'F' && w[1].is_ascii_digit());
                assert!(!named, "{k:?}: {text}");
            }
        }
    }
}
