//! One error code for everything that reaches a cashier: the center's kinds, the
//! counter's own, and the window's. The window branches on it (never on text) and
//! words it in English from one table keyed by this enum (ui/src/i18n.ts, checked
//! complete by the TypeScript compiler); Rust words it in Chinese.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts-rs", derive(ts_rs::TS), ts(export))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // What the center said (nhsa::ErrorKind).
    NotActivated,
    WrongCode,
    CodeExpired,
    BalanceShort,
    Network,
    DataMismatch,
    PaymentLimit,
    RegionMismatch,
    Suspended,
    SystemFault,
    Business,
    SignInStale,
    NoSuchTransaction,
    AlreadyReversed,
    // The counter.
    /// Bad input (a bill, an amount, a line number): nothing was sent.
    Input,
    /// The step does not apply in the checkout's state.
    State,
    /// The ledger could not be written or read.
    Ledger,
    /// A money-moving call's outcome is unknown: nothing may be retried until it is resolved.
    InDoubt,
    /// Another step is working on this checkout now.
    Busy,
    /// The counter is not configured to do this (no counter number).
    Config,
    /// The code is on another open checkout.
    CodeInUse,
    /// Sign-in or a supervisor's confirmation refused.
    Auth,
    /// The hospital's HIS cannot be reached now (a notice waits in the queue).
    HisUnreachable,
    /// The HIS refused (an unknown bill, another settlement): a person must look.
    HisRefused,
    /// A 事前事中 rule (明确违规) stops the settlement until a supervisor overrides it.
    RuleBlocked,
    // The window.
    Validation,
    Forbidden,
    NoCamera,
    NoPrinter,
    Storage,
    NotSignedIn,
    Timeout,
}

impl ErrorCode {
    /// The snake_case text (the JSON form).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotActivated => "not_activated",
            ErrorCode::WrongCode => "wrong_code",
            ErrorCode::CodeExpired => "code_expired",
            ErrorCode::BalanceShort => "balance_short",
            ErrorCode::Network => "network",
            ErrorCode::DataMismatch => "data_mismatch",
            ErrorCode::PaymentLimit => "payment_limit",
            ErrorCode::RegionMismatch => "region_mismatch",
            ErrorCode::Suspended => "suspended",
            ErrorCode::SystemFault => "system_fault",
            ErrorCode::Business => "business",
            ErrorCode::SignInStale => "sign_in_stale",
            ErrorCode::NoSuchTransaction => "no_such_transaction",
            ErrorCode::AlreadyReversed => "already_reversed",
            ErrorCode::Input => "input",
            ErrorCode::State => "state",
            ErrorCode::Ledger => "ledger",
            ErrorCode::InDoubt => "in_doubt",
            ErrorCode::Busy => "busy",
            ErrorCode::Config => "config",
            ErrorCode::CodeInUse => "code_in_use",
            ErrorCode::Auth => "auth",
            ErrorCode::HisUnreachable => "his_unreachable",
            ErrorCode::HisRefused => "his_refused",
            ErrorCode::RuleBlocked => "rule_blocked",
            ErrorCode::Validation => "validation",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NoCamera => "no_camera",
            ErrorCode::NoPrinter => "no_printer",
            ErrorCode::Storage => "storage",
            ErrorCode::NotSignedIn => "not_signed_in",
            ErrorCode::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<nhsa::ErrorKind> for ErrorCode {
    fn from(k: nhsa::ErrorKind) -> ErrorCode {
        use nhsa::ErrorKind as K;
        match k {
            K::NotActivated => ErrorCode::NotActivated,
            K::WrongCode => ErrorCode::WrongCode,
            K::CodeExpired => ErrorCode::CodeExpired,
            K::BalanceShort => ErrorCode::BalanceShort,
            K::Network => ErrorCode::Network,
            K::DataMismatch => ErrorCode::DataMismatch,
            K::PaymentLimit => ErrorCode::PaymentLimit,
            K::RegionMismatch => ErrorCode::RegionMismatch,
            K::Suspended => ErrorCode::Suspended,
            K::SystemFault => ErrorCode::SystemFault,
            K::Business => ErrorCode::Business,
            K::SignInStale => ErrorCode::SignInStale,
            K::NoSuchTransaction => ErrorCode::NoSuchTransaction,
            K::AlreadyReversed => ErrorCode::AlreadyReversed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_is_the_serde_form_and_every_center_kind_keeps_its_code() {
        for c in [
            ErrorCode::InDoubt,
            ErrorCode::CodeInUse,
            ErrorCode::NotSignedIn,
        ] {
            assert_eq!(
                serde_json::to_value(c).unwrap(),
                serde_json::json!(c.as_str())
            );
        }
        for k in [
            nhsa::ErrorKind::Network,
            nhsa::ErrorKind::AlreadyReversed,
            nhsa::ErrorKind::WrongCode,
        ] {
            assert_eq!(ErrorCode::from(k).as_str(), k.code());
        }
    }
}
