//! Printing through the operating system: CUPS on Linux (`lp`, `lpstat`).

use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrintError {
    #[error("no printer: {0}")]
    NoPrinter(String),
    #[error("print job failed: {0}")]
    Failed(String),
}

impl PrintError {
    pub fn message_zh(&self) -> (&'static str, &'static str) {
        match self {
            PrintError::NoPrinter(_) => (
                "没有可用的打印机",
                "请在设置中选择打印机并检查电源和连接；收费已完成，收据已加入补打队列",
            ),
            PrintError::Failed(_) => (
                "收据打印失败",
                "请检查打印机（缺纸、卡纸、离线）；收费已完成，可在记录页补打",
            ),
        }
    }
}

/// CUPS printers (`lpstat -e`), or why there are none.
pub fn list_printers() -> Result<Vec<String>, PrintError> {
    let out = Command::new("lpstat").arg("-e").output().map_err(|e| {
        PrintError::NoPrinter(format!("CUPS tools are not installed (lpstat: {e})"))
    })?;
    let list: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if list.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Err(PrintError::NoPrinter(if err.is_empty() {
            "CUPS has no printers".into()
        } else {
            err
        }));
    }
    Ok(list)
}

/// The CUPS default printer, if any.
pub fn default_printer() -> Option<String> {
    let out = Command::new("lpstat").arg("-d").output().ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    s.split(':')
        .nth(1)
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty() && !x.contains(' '))
}

/// Send a PDF file to a printer (or the default); returns the CUPS job id.
pub fn print_pdf(pdf: &Path, printer: Option<&str>, title: &str) -> Result<String, PrintError> {
    let printer = match printer {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => default_printer()
            .ok_or_else(|| PrintError::NoPrinter("no printer chosen and no CUPS default".into()))?,
    };
    let known = list_printers()?;
    if !known.iter().any(|p| p == &printer) {
        return Err(PrintError::NoPrinter(format!(
            "printer {printer:?} is not known to CUPS"
        )));
    }
    let out = Command::new("lp")
        .args(["-d", &printer, "-t", title, "-o", "fit-to-page"])
        .arg(pdf)
        .output()
        .map_err(|e| PrintError::Failed(format!("lp: {e}")))?;
    if !out.status.success() {
        return Err(PrintError::Failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    // "request id is PRINTER-12 (1 file(s))"
    let s = String::from_utf8_lossy(&out.stdout);
    Ok(s.split_whitespace().nth(3).unwrap_or("").to_string())
}
