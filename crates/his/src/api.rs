//! The HIS HTTP/JSON API, version 1: the constants and wire types shared by the
//! client ([`crate::HttpHis`]) and the simulator ([`crate::sim`]). The contract
//! itself follows (the text of `crates/his/API.md`, included here so the two never
//! differ).
//!
#![doc = include_str!("../API.md")]

use serde::{Deserialize, Serialize};

use crate::PendingBill;

/// The API version this crate speaks.
pub const API_VERSION: u32 = 1;
/// The header naming the API version on every request.
pub const API_HEADER: &str = "X-Yibao-His-Api";
/// The largest answer the client reads.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Paths below the base URL.
pub const PATH_PENDING: &str = "/v1/pending";
pub const PATH_PAID: &str = "/v1/paid";
pub const PATH_REFUNDED: &str = "/v1/refunded";

/// The answer of `GET /v1/pending`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingAnswer {
    pub api: u32,
    pub bills: Vec<PendingBill>,
}

/// The answer of `POST /v1/paid` and `POST /v1/refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OkAnswer {
    pub ok: bool,
}

/// The body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

/// The error codes of §5.
pub mod code {
    pub const API_VERSION: &str = "api_version";
    pub const UNAUTHORIZED: &str = "unauthorized";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const UNKNOWN_BILL: &str = "unknown_bill";
    pub const SETL_ID_MISMATCH: &str = "setl_id_mismatch";
    pub const NOT_PAID: &str = "not_paid";
    pub const NOTICE_ID_REUSED: &str = "notice_id_reused";
    pub const NOT_FOUND: &str = "not_found";
    pub const INTERNAL: &str = "internal";
}

/// Whether `s` is a `"YYYY-MM-DD HH:MM:SS"` time.
pub fn is_time(s: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok() && s.len() == 19
}

/// Whether `s` is an amount in yuan with two decimals, not negative ("12.34").
pub fn is_amount(s: &str) -> bool {
    let Some((int, dec)) = s.split_once('.') else {
        return false;
    };
    !int.is_empty()
        && int.len() <= 12
        && int.bytes().all(|b| b.is_ascii_digit())
        && dec.len() == 2
        && dec.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a `bill_id` can name a file on every system (folder mode, §2).
pub fn is_file_safe_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= 128
        && !id.starts_with('.')
        && !id.ends_with(' ')
        && !id.chars().any(|c| {
            c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_time("2026-12-01 08:30:00"));
        assert!(!is_time("2026-12-01T08:30:00"));
        assert!(!is_time("2026-12-1 08:30:00"));
        assert!(is_amount("0.00") && is_amount("12.34"));
        assert!(!is_amount("12.3") && !is_amount("-1.00") && !is_amount("12"));
        assert!(is_file_safe_id("HIS-1-MT"));
        assert!(!is_file_safe_id("../x") && !is_file_safe_id(".x") && !is_file_safe_id(""));
    }
}
