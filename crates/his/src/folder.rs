//! The folder adapter: bill files in `<dir>/pending`, notices written to
//! `<dir>/paid` and `<dir>/refunded` (API.md §6).
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::is_file_safe_id;
use crate::{same_certno, HisError, Lookup, PaidNotice, PendingBill, RefundNotice};

/// A HIS exchanging files in a shared folder.
///
/// One counter process is expected to write a given bill's notices at a time (the
/// counter serialises its notices); the HIS only reads `paid/` and `refunded/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderHis {
    pub dir: PathBuf,
}

const PENDING: &str = "pending";
const PAID: &str = "paid";
const REFUNDED: &str = "refunded";

impl FolderHis {
    pub fn new(dir: impl Into<PathBuf>) -> FolderHis {
        FolderHis { dir: dir.into() }
    }

    /// The bills in `<dir>/pending` of the patient, oldest first. A `psn_no` lookup
    /// finds nothing (bill files carry no 医保人员编号).
    pub async fn pending(&self, who: &Lookup) -> Result<Vec<PendingBill>, HisError> {
        let Lookup::Certno(certno) = who else {
            return Ok(Vec::new());
        };
        let dir = self.dir.clone();
        let certno = certno.clone();
        blocking(move || {
            let all = read_pending(&dir)?;
            Ok(all
                .into_iter()
                .filter(|b| same_certno(&b.certno, &certno))
                .collect())
        })
        .await
    }

    pub async fn paid(&self, n: &PaidNotice) -> Result<(), HisError> {
        let dir = self.dir.clone();
        let n = n.clone();
        blocking(move || paid(&dir, &n)).await
    }

    pub async fn refunded(&self, n: &RefundNotice) -> Result<(), HisError> {
        let dir = self.dir.clone();
        let n = n.clone();
        blocking(move || refunded(&dir, &n)).await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, HisError> + Send + 'static,
) -> Result<T, HisError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HisError::Io(format!("文件操作中断：{e}")))?
}

fn io(what: &str, path: &Path, e: std::io::Error) -> HisError {
    HisError::Io(format!("{what} {}：{e}", path.display()))
}

/// `<dir>` must exist (a missing share is an error, not "no bills"); the subfolder
/// is created when absent.
fn subdir(dir: &Path, name: &str) -> Result<PathBuf, HisError> {
    if !dir.is_dir() {
        return Err(HisError::Io(format!(
            "HIS 交换文件夹 {} 不存在或不是文件夹",
            dir.display()
        )));
    }
    let sub = dir.join(name);
    std::fs::create_dir_all(&sub).map_err(|e| io("无法创建文件夹", &sub, e))?;
    Ok(sub)
}

/// Every readable bill file, sorted by `created_at` then `bill_id`.
fn read_pending(dir: &Path) -> Result<Vec<PendingBill>, HisError> {
    let sub = subdir(dir, PENDING)?;
    let entries = std::fs::read_dir(&sub).map_err(|e| io("无法读取文件夹", &sub, e))?;
    let mut bills = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io("无法读取文件夹", &sub, e))?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        if stem.starts_with('.') || !path.is_file() {
            continue;
        }
        match read_json::<PendingBill>(&path) {
            Ok(b) if b.bill_id == stem => bills.push(b),
            Ok(b) => tracing::warn!(
                file = %path.display(),
                bill_id = %b.bill_id,
                "HIS bill file skipped: its name is not its bill_id"
            ),
            Err(e) => tracing::warn!(file = %path.display(), error = %e, "HIS bill file skipped"),
        }
    }
    bills.sort_by(|a, b| (&a.created_at, &a.bill_id).cmp(&(&b.created_at, &b.bill_id)));
    Ok(bills)
}

/// Read a JSON file (a UTF-8 byte-order mark is accepted).
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// Read an existing notice file: `None` when there is none.
fn read_notice<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, HisError> {
    if !path.exists() {
        return Ok(None);
    }
    read_json(path).map(Some).map_err(|e| {
        HisError::BadAnswer(format!(
            "通知文件 {} 已存在但无法读取（{e}），请信息科检查后删除或修复",
            path.display()
        ))
    })
}

fn check_id(bill_id: &str) -> Result<(), HisError> {
    if is_file_safe_id(bill_id) {
        Ok(())
    } else {
        Err(HisError::Refused {
            status: 400,
            message: format!(
                "账单号“{bill_id}”不能用作文件名，请 HIS 换用只含字母、数字和 - 的账单号"
            ),
        })
    }
}

fn conflict(message: String) -> HisError {
    HisError::Refused {
        status: 409,
        message,
    }
}

fn paid(dir: &Path, n: &PaidNotice) -> Result<(), HisError> {
    check_id(&n.bill_id)?;
    let file = format!("{}.json", n.bill_id);
    let target = subdir(dir, PAID)?.join(&file);
    match read_notice::<PaidNotice>(&target)? {
        Some(old) if old.setl_id != n.setl_id => {
            return Err(conflict(format!(
                "账单 {} 已按结算号 {} 缴费，不能再按结算号 {} 缴费",
                n.bill_id, old.setl_id, n.setl_id
            )))
        }
        Some(_) => {}
        None => write_atomic(&target, n)?,
    }
    let pending = dir.join(PENDING).join(&file);
    match std::fs::remove_file(&pending) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("已写缴费通知，但无法删除待缴费文件", &pending, e)),
    }
}

fn refunded(dir: &Path, n: &RefundNotice) -> Result<(), HisError> {
    check_id(&n.bill_id)?;
    let file = format!("{}.json", n.bill_id);
    let paid_file = subdir(dir, PAID)?.join(&file);
    match read_notice::<PaidNotice>(&paid_file)? {
        None => {
            return Err(conflict(format!(
                "账单 {} 没有缴费记录，不能退费",
                n.bill_id
            )))
        }
        Some(p) if p.setl_id != n.setl_id => {
            return Err(conflict(format!(
                "账单 {} 的缴费结算号是 {}，与退费的结算号 {} 不符",
                n.bill_id, p.setl_id, n.setl_id
            )))
        }
        Some(_) => {}
    }
    let target = subdir(dir, REFUNDED)?.join(&file);
    match read_notice::<RefundNotice>(&target)? {
        Some(old) if old.setl_id != n.setl_id => Err(conflict(format!(
            "账单 {} 已按结算号 {} 退费",
            n.bill_id, old.setl_id
        ))),
        Some(_) => Ok(()),
        None => write_atomic(&target, n),
    }
}

/// Write `value` as JSON to a hidden temporary file beside `target`, flush it to
/// disk, then rename it over `target`: a reader sees the whole file or none.
fn write_atomic<T: Serialize>(target: &Path, value: &T) -> Result<(), HisError> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = dir.join(format!(".{name}.{}-{nanos}.tmp", std::process::id()));
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| HisError::Io(format!("无法生成通知内容：{e}")))?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("无法写入通知文件", target, e)
    })
}
