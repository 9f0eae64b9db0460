//! Reconciliation and files: 3201 period totals, 3202 settlement-by-settlement
//! detail against an uploaded file, 9101 file upload and 9102 file download.

use chrono::NaiveDateTime;
use money::Fen;
use nhsa::RequestEnvelope;
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use super::{biz, fmt, req, text, Biz, R};
use crate::{db, now};

/// Settlements counted for reconciliation: valid normal ones, plus (with
/// `refd_setl_flag` 1) cancellations and the settlements they cancelled.
async fn period_rows(
    c: &mut SqliteConnection,
    fixmedins: &str,
    data: &Value,
) -> R<Vec<(String, String, String, i64, i64, i64, i64, String)>> {
    let begin = text(data, "stmt_begndate");
    let end = text(data, "stmt_enddate");
    let refd = text(data, "refd_setl_flag") == "1";
    let rows = sqlx::query("SELECT setl_id, mdtrt_id, psn_no, medfee, fund, acct, cash, kind, state, insutype, clr_type, clr_optins FROM settlements WHERE fixmedins_code = ? AND substr(setl_time, 1, 10) BETWEEN ? AND ? ORDER BY setl_time")
        .bind(fixmedins)
        .bind(&begin)
        .bind(&end)
        .fetch_all(&mut *c)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let kind: String = r.get(7);
        let state: String = r.get(8);
        let filt = |k: &str, col: usize| {
            let want = text(data, k);
            want.is_empty() || want == r.get::<String, _>(col)
        };
        if !filt("insutype", 9) || !filt("clr_type", 10) || !filt("setl_optins", 11) {
            continue;
        }
        let counted = match (refd, kind.as_str(), state.as_str()) {
            (_, _, "reversed") => false,
            (false, "settle", "valid") => true,
            (false, _, _) => false,
            (true, _, _) => true,
        };
        if counted {
            out.push((
                r.get(0),
                r.get(1),
                r.get(2),
                r.get(3),
                r.get(4),
                r.get(5),
                r.get(6),
                if kind == "cancel" {
                    "1".into()
                } else {
                    "0".into()
                },
            ));
        }
    }
    Ok(out)
}

pub(super) async fn stmt_total(
    env: &RequestEnvelope,
    data: &Value,
    c: &mut SqliteConnection,
) -> R<Value> {
    let rows = period_rows(c, &env.fixmedins_code, data).await?;
    let sum = |i: usize| -> i64 { rows.iter().map(|r| [r.3, r.4, r.5, r.6][i]).sum() };
    let (medfee, fund, acct, cnt) = (sum(0), sum(1), sum(2), rows.len() as i64);
    let theirs = |k: &str| Fen::parse(&text(data, k)).map(|f| f.0).unwrap_or(i64::MIN);
    let cnt_theirs: i64 = text(data, "fixmedins_setl_cnt").parse().unwrap_or(-1);
    let balanced = theirs("medfee_sumamt") == medfee
        && theirs("fund_pay_sumamt") == fund
        && theirs("acct_pay") == acct
        && cnt_theirs == cnt;
    let dscr = if balanced {
        "对账平".to_string()
    } else {
        format!(
            "对账不平：中心 医疗费总额 {} 基金支付 {} 个人账户 {} 笔数 {}",
            Fen(medfee),
            Fen(fund),
            Fen(acct),
            cnt
        )
    };
    Ok(
        json!({"stmtinfo": {"setl_optins": text(data, "setl_optins"), "stmt_rslt": if balanced { "0" } else { "1" }, "stmt_rslt_dscr": dscr,
        "medfee_sumamt": Fen(medfee).to_string(), "fund_pay_sumamt": Fen(fund).to_string(), "acct_pay": Fen(acct).to_string(), "fixmedins_setl_cnt": cnt}}),
    )
}

pub(super) async fn stmt_detail(
    env: &RequestEnvelope,
    data: &Value,
    c: &mut SqliteConnection,
) -> R<Value> {
    let no = req(data, "data", "file_qury_no")?;
    let content: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT content FROM files WHERE file_qury_no = ?")
            .bind(&no)
            .fetch_optional(&mut *c)
            .await?;
    let Some(content) = content else {
        return biz(format!("对账明细文件 {no} 不存在，请先上传（9101）"));
    };
    let text_content = String::from_utf8_lossy(&content).to_string();
    let mut ours = std::collections::BTreeMap::new();
    for (i, line) in text_content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 7 {
            return biz(format!("对账明细文件第 {} 行应有7列（setl_id mdtrt_id psn_no medfee_sumamt fund_pay_sumamt acct_pay refd_setl_flag），以制表符分隔", i + 1));
        }
        let f = |x: &str| {
            Fen::parse(x.trim())
                .map(|f| f.0)
                .map_err(|e| Biz(format!("对账明细文件第 {} 行金额错误：{e}", i + 1)))
        };
        ours.insert(
            cols[0].trim().to_string(),
            (
                cols[1].to_string(),
                cols[2].to_string(),
                f(cols[3])?,
                f(cols[4])?,
                f(cols[5])?,
                cols[6].trim().to_string(),
            ),
        );
    }
    let theirs = period_rows(c, &env.fixmedins_code, data).await?;
    let mut result = Vec::new();
    for r in &theirs {
        let (rslt, memo) = match ours.remove(&r.0) {
            None => ("1", "中心有医院无"),
            Some(o) if (o.2, o.3, o.4) != (r.3, r.4, r.5) => ("1", "金额不符"),
            Some(_) => ("0", "平"),
        };
        let msgid: Option<String> =
            sqlx::query_scalar("SELECT msgid FROM settlements WHERE setl_id = ?")
                .bind(&r.0)
                .fetch_optional(&mut *c)
                .await?;
        result.push(format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.2,
            r.1,
            r.0,
            msgid.unwrap_or_default(),
            rslt,
            r.7,
            memo,
            Fen(r.3),
            Fen(r.4),
            Fen(r.5)
        ));
    }
    for (setl_id, o) in ours {
        result.push(format!(
            "{}\t{}\t{}\t\t1\t{}\t医院有中心无\t{}\t{}\t{}",
            o.1,
            o.0,
            setl_id,
            o.5,
            Fen(o.2),
            Fen(o.3),
            Fen(o.4)
        ));
    }
    let seq = db::next(c, "file").await?;
    let out_no = format!("R{}{:08}", now().format("%Y%m%d"), seq);
    let filename = format!("{out_no}.txt");
    sqlx::query("INSERT INTO files VALUES (?,?,?)")
        .bind(&out_no)
        .bind(&filename)
        .bind(result.join("\n").into_bytes())
        .execute(&mut *c)
        .await?;
    let all_ok = result.iter().all(|l| l.split('\t').nth(4) == Some("0"));
    Ok(
        json!({"fileinfo": {"file_qury_no": out_no, "filename": filename, "dld_endtime": fmt(now() + chrono::Duration::days(1))},
        "stmt_rslt": if all_ok { "0" } else { "1" }}),
    )
}

/// 9101: keep an uploaded (Base64) file; the answer names it by `file_qury_no`.
pub(super) async fn file_upload(
    input: &Value,
    t: NaiveDateTime,
    c: &mut SqliteConnection,
) -> R<Value> {
    let f = input.get("fsUploadIn").cloned().unwrap_or(Value::Null);
    let content =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text(&f, "in"))
            .map_err(|_| Biz("fsUploadIn.in 不是合法的Base64".into()))?;
    let seq = db::next(c, "file").await?;
    let no = format!("F{}{:08}", t.format("%Y%m%d"), seq);
    sqlx::query("INSERT INTO files VALUES (?,?,?)")
        .bind(&no)
        .bind(text(&f, "filename"))
        .bind(content)
        .execute(&mut *c)
        .await?;
    Ok(json!({"file_qury_no": no, "filename": text(&f, "filename")}))
}

/// 9102: a kept file, Base64-encoded.
pub(super) async fn file_download(input: &Value, c: &mut SqliteConnection) -> R<Value> {
    let f = input.get("fsDownloadIn").cloned().unwrap_or(Value::Null);
    let no = req(&f, "fsDownloadIn", "file_qury_no")?;
    let row = sqlx::query("SELECT filename, content FROM files WHERE file_qury_no = ?")
        .bind(&no)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else {
        return biz(format!("文件 {no} 不存在"));
    };
    Ok(
        json!({"filename": row.get::<String,_>(0), "content": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, row.get::<Vec<u8>,_>(1))}),
    )
}
