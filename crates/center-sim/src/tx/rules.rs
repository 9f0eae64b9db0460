//! 3101 事前事中 analysis and 3102 its feedback. The simulated center's rules (the
//! national platform's knowledge base has hundreds; these three show each kind):
//! - `R-CHILD` 限儿童用药: 盐酸氨溴索口服溶液 for a patient 18 or older — 高度可疑 (2);
//! - `R-QTY` 超量开药: more than 10 of one drug on a visit — 明确违规 (1), blocking;
//! - `R-REPEAT` 重复开药: a drug the person was settled for in the last 7 days — 高度可疑 (2).
use chrono::NaiveDateTime;
use money::{Fen, Price, Qty};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

use super::identity::load_person;
use super::{biz, fmt, req, text, R};

const CHILD_ONLY: &str = "XR05CBA010A001010100007";
const MAX_CNT: i64 = 10;

pub(super) async fn check(data: &Value, t: NaiveDateTime, c: &mut SqliteConnection) -> R<Value> {
    let psn_no = req(data, "data", "patn_id")?;
    if text(data, "trig_scen").is_empty() {
        return biz("trig_scen 不能为空");
    }
    let p = load_person(c, &psn_no).await?;
    let age = chrono::NaiveDate::parse_from_str(&p.brdy, "%Y-%m-%d")
        .map(|b| (t.date() - b).num_days() / 365)
        .unwrap_or(0);
    let enc = data["fsi_encounter_dtos"]
        .get(0)
        .cloned()
        .unwrap_or(Value::Null);
    let mdtrt_id = text(&enc, "mdtrt_id");
    let orders = enc["fsi_order_dtos"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if orders.is_empty() {
        return biz("fsi_order_dtos 不能为空");
    }
    let since = fmt(t - chrono::Duration::days(7));
    let mut hits = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        let code = text(o, "hilist_code");
        let name = text(o, "hilist_name");
        let cnt = Qty::parse(&text(o, "cnt")).unwrap_or(Qty(0));
        let pric = Price::parse(&text(o, "pric")).unwrap_or(Price(0));
        let sumamt = Fen::parse(&text(o, "sumamt")).unwrap_or(Fen::ZERO);
        let mut hit = |rule: &str, rule_name: &str, sev: &str, amt: Fen, cont: String| {
            hits.push(json!({"jr_id": format!("JR{}{i}{}", t.format("%H%M%S"), hits_len(rule)),
                "rule_id": rule, "rule_name": rule_name, "vola_cont": cont, "patn_id": psn_no,
                "mdtrt_id": mdtrt_id, "vola_amt": amt.to_string(), "vola_amt_stas": "1", "sev_deg": sev,
                "vola_evid": code, "vola_bhvr_type": "1", "task_time": fmt(t)}));
        };
        if code == CHILD_ONLY && age >= 18 {
            hit(
                "R-CHILD",
                "限儿童用药",
                "2",
                sumamt,
                format!("{name}限儿童使用，患者 {age} 岁"),
            );
        }
        let is_drug = code.starts_with('X') || code.starts_with('Z');
        let max = Qty::parse(&MAX_CNT.to_string()).unwrap_or(Qty(0));
        if is_drug && cnt > max {
            let over = Qty(cnt.0 - max.0);
            hit(
                "R-QTY",
                "超量开药",
                "1",
                pric.times(over),
                format!("{name}开药数量 {cnt} 超过单次限量 {MAX_CNT}"),
            );
        }
        if is_drug {
            let before: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM fee_lines f JOIN settlements s ON s.setl_id = f.setl_id
                  WHERE s.psn_no = ? AND s.state = 'valid' AND s.kind = 'settle' AND s.setl_time >= ?
                    AND json_extract(f.input_json, '$.med_list_codg') = ?",
            )
            .bind(&psn_no)
            .bind(&since)
            .bind(&code)
            .fetch_one(&mut *c)
            .await
            .unwrap_or(0);
            if before > 0 {
                hit(
                    "R-REPEAT",
                    "重复开药",
                    "2",
                    sumamt,
                    format!("{name}在 7 日内已结算过，疑似重复开药"),
                );
            }
        }
    }
    Ok(json!({"result": hits}))
}

fn hits_len(rule: &str) -> &'static str {
    match rule {
        "R-CHILD" => "C",
        "R-QTY" => "Q",
        _ => "R",
    }
}

pub(super) async fn feedback(data: &Value) -> R<Value> {
    let warns = data["warns"].as_array().cloned().unwrap_or_default();
    if warns.is_empty() {
        return biz("warns 不能为空");
    }
    for (i, w) in warns.iter().enumerate() {
        let at = format!("warns[{i}]");
        req(w, &at, "warn_rslt_id")?;
        let way = req(w, &at, "dspo_way")?;
        if !matches!(way.as_str(), "1" | "2") {
            return biz(format!("{at}.dspo_way 应为 1（继续执行）或 2（返回修改）"));
        }
        if way == "1" {
            req(w, &at, "dspo_way_rea")?;
        }
    }
    Ok(json!({}))
}
