//! The day's reconciliation as a file for finance: CSV in UTF-8 with a BOM and CRLF
//! line ends, so that Excel and WPS open the Chinese text as it is.

use std::path::{Path, PathBuf};

use money::Fen;

use crate::dto::ReconcileView;

/// One CSV field, quoted when it has to be.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt(f: Option<Fen>) -> String {
    f.map(|f| f.to_string()).unwrap_or_default()
}

/// The report's text.
pub fn csv(v: &ReconcileView, institution: &str, operator: &str, generated: &str) -> String {
    let mut rows: Vec<Vec<String>> = vec![
        vec!["日结对账单".into(), institution.into()],
        vec!["对账日期".into(), v.day.clone()],
        vec![
            "操作员".into(),
            operator.into(),
            "生成时间".into(),
            generated.into(),
        ],
        vec![
            "与医保中心".into(),
            if v.center_balanced { "平" } else { "不平" }.into(),
        ],
        vec![],
        [
            "险种",
            "清算类别",
            "清算机构",
            "笔数",
            "医疗费总额",
            "基金支付",
            "个人账户",
            "结果",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for g in &v.groups {
        rows.push(vec![
            g.insutype.clone(),
            g.clr_type.clone(),
            g.setl_optins.clone(),
            g.count.to_string(),
            g.medfee_sumamt.to_string(),
            g.fund_pay_sumamt.to_string(),
            g.acct_pay.to_string(),
            g.center_says.clone(),
        ]);
        for d in &g.differences {
            rows.push(vec!["".into(), "差异".into(), d.clone()]);
        }
    }
    rows.push(vec![]);
    rows.push(
        ["收款", "应有", "实点/终端", "差异"]
            .map(String::from)
            .to_vec(),
    );
    rows.push(vec![
        "现金（含备用金）".into(),
        v.cash_expected.to_string(),
        opt(v.cash_counted),
        opt(v.cash_variance),
    ]);
    rows.push(vec![
        "银行卡".into(),
        v.card_expected.to_string(),
        opt(v.card_terminal),
        opt(v.card_variance),
    ]);
    rows.push(vec![]);
    rows.push(vec!["结算笔数".into(), v.settlements.to_string()]);
    rows.push(vec!["退费笔数".into(), v.refunds.to_string()]);
    rows.push(vec!["医疗费总额".into(), v.medfee_sumamt.to_string()]);
    rows.push(vec!["基金支付".into(), v.fund_pay_sumamt.to_string()]);
    rows.push(vec!["个人账户支付".into(), v.acct_pay.to_string()]);
    rows.push(vec!["个人现金支付".into(), v.psn_cash_pay.to_string()]);
    if v.queued > 0 {
        rows.push(vec!["离线队列未补传".into(), v.queued.to_string()]);
    }
    for a in &v.open_adjustments {
        rows.push(vec!["待处理差额".into(), a.clone()]);
    }
    let mut out = String::from("\u{feff}");
    for r in rows {
        out.push_str(&r.iter().map(|f| field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// Write the report under `<data dir>/reports/`; the file name carries the day and the time.
pub fn write(dir: &Path, v: &ReconcileView, text: &str, stamp: &str) -> std::io::Result<PathBuf> {
    let dir = dir.join("reports");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("日结对账-{}-{stamp}.csv", v.day));
    let tmp = path.with_extension("csv.tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_needs_quoting() {
        assert_eq!(field("平"), "平");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
