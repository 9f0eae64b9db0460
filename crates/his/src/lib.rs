//! The hospital HIS (医院信息系统) adapter.
//!
//! After the counter resolves a patient it asks the HIS for that patient's unpaid
//! doctor's orders ([`His::pending`]); after a settlement it tells the HIS which bill
//! is paid, with the 医保 settlement id ([`His::paid`]); after a refund, which bill is
//! refunded ([`His::refunded`]).
//!
//! Two ways to reach a HIS, chosen by configuration ([`His::from_config`]):
//!
//! * [`HttpHis`]: the HTTP/JSON API version 1 that a hospital's integrator implements
//!   (the contract is in [`api`] and in `crates/his/API.md`);
//! * [`FolderHis`]: a shared folder the HIS drops bill files into and reads notices from.
//!
//! [`sim`] is a simulated HIS serving API v1 over real HTTP, as strict as a real
//! integration, for tests and the demo.

pub mod api;
mod folder;
mod http;
pub mod sim;

use serde::{Deserialize, Serialize};

pub use folder::FolderHis;
pub use http::HttpHis;

/// One pending bill: the doctor's orders of one visit, in the counter's HIS bill format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingBill {
    /// The HIS's id of this bill (unique per HIS).
    pub bill_id: String,
    /// The patient's 身份证号.
    pub certno: String,
    pub psn_name: String,
    /// 医疗类别: "11" 普通门诊, "14" 门诊慢特病.
    pub med_type: String,
    /// Who saw the patient, where, with which diagnoses (goes to 2201 and 2203).
    pub visit: nhsa::visit::Visit,
    /// The bill lines in the bill-file format (`name`, `medins_list_codg`,
    /// `med_list_codg`, `med_chrgitm_type`, `chrgitm_lv`, `cnt`, `pric`, `rxno`,
    /// `bilg_dept_codg`, …); the counter parses them.
    pub lines: Vec<serde_json::Value>,
    /// When the HIS created the bill, "YYYY-MM-DD HH:MM:SS".
    pub created_at: String,
}

/// The counter's notice that a bill was settled and paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaidNotice {
    /// The counter's id of this notice; a resent notice keeps it (idempotency key).
    pub notice_id: String,
    pub bill_id: String,
    /// The 医保 settlement id (2207 `setl_id`).
    pub setl_id: String,
    /// The 医保 visit id (2201 `mdtrt_id`).
    pub mdtrt_id: String,
    /// The patient's 医保人员编号.
    pub psn_no: String,
    /// Amounts in yuan, two decimals ("12.34").
    pub medfee_sumamt: String,
    pub fund_pay_sumamt: String,
    pub psn_cash_pay: String,
    /// "YYYY-MM-DD HH:MM:SS".
    pub paid_at: String,
}

/// The counter's notice that a paid bill was refunded (its settlement cancelled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotice {
    pub notice_id: String,
    pub bill_id: String,
    /// The settlement id of the payment being refunded (as in the [`PaidNotice`]).
    pub setl_id: String,
    /// "YYYY-MM-DD HH:MM:SS".
    pub refunded_at: String,
}

/// Whose pending bills to look up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// By 身份证号.
    Certno(String),
    /// By 医保人员编号.
    PsnNo(String),
}

/// Why a call to the HIS failed. The display texts are for the cashier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HisError {
    /// Network error, timeout or a 5xx answer: try again later.
    #[error("连不上医院 HIS：{0}。请检查网络或稍后重试。")]
    Unreachable(String),
    /// The HIS said no (a 4xx answer, or the folder's equivalent): not retried.
    #[error("医院 HIS 拒绝了请求（{status}）：{message}")]
    Refused { status: u16, message: String },
    /// The HIS answered something the counter cannot read: an integration defect.
    #[error("医院 HIS 的回答无法识别：{0}。请联系信息科检查 HIS 接口。")]
    BadAnswer(String),
    /// Reading or writing the HIS folder failed.
    #[error("读写 HIS 交换文件夹失败：{0}。请检查文件夹是否存在、可写，网络共享是否已连接。")]
    Io(String),
}

impl HisError {
    /// Whether sending the same request again later may succeed: network trouble,
    /// timeouts, 5xx and folder I/O errors (a share that is not mounted, a full disk).
    /// A refusal (4xx) or an unreadable answer needs a person, not a retry.
    pub fn retryable(&self) -> bool {
        matches!(self, HisError::Unreachable(_) | HisError::Io(_))
    }

    /// The HTTP status of a refusal (or of its folder equivalent).
    pub fn status(&self) -> Option<u16> {
        match self {
            HisError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The adapter, chosen by configuration.
#[derive(Debug, Clone)]
pub enum His {
    /// No HIS configured: no pending bills, notices go nowhere.
    None,
    Http(HttpHis),
    Folder(FolderHis),
}

impl His {
    /// `"http://…"` or `"https://…"` → [`His::Http`] (the API base URL); any other
    /// text → [`His::Folder`] (the exchange folder); `None` or blank → [`His::None`].
    /// A blank token means no token.
    pub fn from_config(url_or_dir: Option<&str>, token: Option<&str>) -> His {
        let Some(s) = url_or_dir.map(str::trim).filter(|s| !s.is_empty()) else {
            return His::None;
        };
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            let token = token.map(str::trim).filter(|t| !t.is_empty());
            His::Http(HttpHis::new(s, token))
        } else {
            His::Folder(FolderHis::new(s))
        }
    }

    /// The patient's unpaid bills (none when no HIS is configured).
    pub async fn pending(&self, who: &Lookup) -> Result<Vec<PendingBill>, HisError> {
        match self {
            His::None => Ok(Vec::new()),
            His::Http(h) => h.pending(who).await,
            His::Folder(f) => f.pending(who).await,
        }
    }

    /// Tell the HIS a bill is paid. Idempotent: the same notice may be sent again.
    pub async fn paid(&self, n: &PaidNotice) -> Result<(), HisError> {
        match self {
            His::None => Ok(()),
            His::Http(h) => h.paid(n).await,
            His::Folder(f) => f.paid(n).await,
        }
    }

    /// Tell the HIS a paid bill is refunded. Idempotent.
    pub async fn refunded(&self, n: &RefundNotice) -> Result<(), HisError> {
        match self {
            His::None => Ok(()),
            His::Http(h) => h.refunded(n).await,
            His::Folder(f) => f.refunded(n).await,
        }
    }

    /// "none", "http" or "folder".
    pub fn kind(&self) -> &'static str {
        match self {
            His::None => "none",
            His::Http(_) => "http",
            His::Folder(_) => "folder",
        }
    }
}

/// Two 身份证号 are the same person: equal ignoring surrounding blanks and the case
/// of the check letter X.
pub(crate) fn same_certno(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_chooses_the_adapter() {
        assert_eq!(His::from_config(None, None).kind(), "none");
        assert_eq!(His::from_config(Some("  "), Some("t")).kind(), "none");
        let h = His::from_config(Some("HTTPS://his.example/yibao/"), Some("t"));
        assert_eq!(h.kind(), "http");
        let His::Http(h) = h else { unreachable!() };
        assert_eq!(h.base(), "HTTPS://his.example/yibao");
        // The token never shows in logs.
        assert!(!format!("{h:?}").contains("\"t\""));
        let f = His::from_config(Some("D:\\his\\exchange"), None);
        assert_eq!(f.kind(), "folder");
        assert!(HisError::Unreachable("x".into()).retryable());
        assert!(!HisError::Refused {
            status: 409,
            message: "x".into()
        }
        .retryable());
    }
}
