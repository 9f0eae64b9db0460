//! The institution's day from the money facts: totals and per counter, in two-place
//! decimal strings (`yibao hub report`).
use money::Fen;
use serde_json::{json, Value};
use sqlx::postgres::PgPool;
use sqlx::Row;

pub async fn day(pool: &PgPool, date: &str) -> Result<Value, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT counter_id,
                CAST(COALESCE(SUM(CASE WHEN kind = 'settle' THEN 1 WHEN kind = 'cancel' THEN -1 ELSE 0 END), 0) AS BIGINT) AS checkouts,
                CAST(COALESCE(SUM(CASE WHEN kind <> 'payment' THEN medfee ELSE 0 END), 0) AS BIGINT) AS medfee,
                CAST(COALESCE(SUM(CASE WHEN kind <> 'payment' THEN fund ELSE 0 END), 0) AS BIGINT) AS fund,
                CAST(COALESCE(SUM(CASE WHEN kind <> 'payment' THEN acct ELSE 0 END), 0) AS BIGINT) AS acct,
                CAST(COALESCE(SUM(CASE WHEN kind <> 'payment' THEN mulaid ELSE 0 END), 0) AS BIGINT) AS mulaid,
                CAST(COALESCE(SUM(CASE WHEN kind = 'payment' AND channel = 'cash' THEN amount ELSE 0 END), 0) AS BIGINT) AS cash,
                CAST(COALESCE(SUM(CASE WHEN kind = 'payment' AND channel = 'card' THEN amount ELSE 0 END), 0) AS BIGINT) AS card
           FROM money_facts WHERE day = $1 GROUP BY counter_id ORDER BY counter_id",
    )
    .bind(date)
    .fetch_all(pool)
    .await?;
    let f = |v: i64| Fen(v).to_string();
    let mut tot = [0i64; 7];
    let counters: Vec<Value> = rows
        .iter()
        .map(|r| {
            let g = |k: &str| r.try_get::<i64, _>(k).unwrap_or(0);
            let vals: [i64; 7] = [
                g("checkouts"),
                g("medfee"),
                g("fund"),
                g("acct"),
                g("mulaid"),
                g("cash"),
                g("card"),
            ];
            for (t, v) in tot.iter_mut().zip(vals) {
                *t += v;
            }
            json!({"counter": r.get::<String, _>("counter_id"), "checkouts": vals[0],
                "medfee_sumamt": f(vals[1]), "fund_pay_sumamt": f(vals[2]), "acct_pay": f(vals[3]),
                "acct_mulaid_pay": f(vals[4]), "cash": f(vals[5]), "card": f(vals[6])})
        })
        .collect();
    Ok(
        json!({"date": date, "checkouts": tot[0], "medfee_sumamt": f(tot[1]),
        "fund_pay_sumamt": f(tot[2]), "acct_pay": f(tot[3]), "acct_mulaid_pay": f(tot[4]),
        "cash": f(tot[5]), "card": f(tot[6]), "counters": counters}),
    )
}
