//! Read-only queries: 5201 a person's visits, 5203 a settlement, 5204 the fee
//! lines of a settlement.

use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};

use super::{biz, req, R};

/// 5201: a person's visits, with the valid settlement of each.
pub(super) async fn visit_query(data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let psn_no = req(data, "data", "psn_no")?;
    let rows = sqlx::query("SELECT v.mdtrt_id, v.med_type, v.begntime, v.ipt_otp_no, (SELECT GROUP_CONCAT(setl_id) FROM settlements s WHERE s.mdtrt_id = v.mdtrt_id AND s.kind = 'settle' AND s.state = 'valid') AS setl FROM visits v WHERE v.psn_no = ? ORDER BY v.begntime")
        .bind(&psn_no)
        .fetch_all(&mut *c)
        .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| json!({"mdtrt_id": r.get::<String,_>(0), "psn_no": psn_no, "med_type": r.get::<String,_>(1), "begntime": r.get::<Option<String>,_>(2), "ipt_otp_no": r.get::<Option<String>,_>(3), "setl_id": r.get::<Option<String>,_>(4)}))
        .collect();
    Ok(json!({"mdtrtinfo": list}))
}

/// 5203: a settlement's stored answer, with its cancellation flag and state.
pub(super) async fn settle_query(data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let setl_id = req(data, "data", "setl_id")?;
    let row = sqlx::query("SELECT output_json, state, kind FROM settlements WHERE setl_id = ?")
        .bind(&setl_id)
        .fetch_optional(&mut *c)
        .await?;
    let Some(row) = row else {
        return biz(format!("结算ID {setl_id} 不存在"));
    };
    let mut out: Value = serde_json::from_str(&row.get::<String, _>(0)).unwrap_or(Value::Null);
    let state: String = row.get(1);
    out["setlinfo"]["refd_setl_flag"] = json!(if row.get::<String, _>(2) == "cancel" {
        "1"
    } else {
        "0"
    });
    out["setlinfo"]["setl_state"] = json!(state);
    Ok(out)
}

/// 5204: the fee-line results of a settlement.
pub(super) async fn fee_query(data: &Value, c: &mut SqliteConnection) -> R<Value> {
    let setl_id = req(data, "data", "setl_id")?;
    let rows =
        sqlx::query("SELECT result_json FROM fee_lines WHERE setl_id = ? ORDER BY feedetl_sn")
            .bind(&setl_id)
            .fetch_all(&mut *c)
            .await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.get::<String, _>(0)).unwrap_or(Value::Null))
        .collect();
    Ok(json!({"feedetail": list}))
}
