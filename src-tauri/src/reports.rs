//! The day's reconciliation as a file for finance (the text is
//! `checkout::DayReport::to_csv`, shared with `yibao reconcile --csv`).

use std::path::{Path, PathBuf};

/// Write the report under `<data dir>/reports/`; the file name carries the day and the
/// time. Written to a temporary name first, so a crash never leaves half a report.
pub fn write(dir: &Path, day: &str, text: &str, stamp: &str) -> std::io::Result<PathBuf> {
    let dir = dir.join("reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("日结对账-{day}-{stamp}.csv"));
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Write a named report (e.g. `财务日报-2026-12-01-093000.csv`) under `<data dir>/reports/`,
/// through a temporary name.
pub fn write_named(dir: &Path, name: &str, text: &str) -> std::io::Result<PathBuf> {
    let dir = dir.join("reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
