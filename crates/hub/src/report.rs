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
    // Settlements per hour (the finance screen's chart), by the settlement's own time
    // (older facts without it are in the day's totals, not in an hour).
    let hours = sqlx::query(
        "SELECT SUBSTRING(setl_time FROM 12 FOR 2) AS hour,
                CAST(SUM(CASE WHEN kind = 'settle' THEN 1 ELSE -1 END) AS BIGINT) AS checkouts,
                CAST(SUM(medfee) AS BIGINT) AS medfee
           FROM money_facts
          WHERE day = $1 AND kind IN ('settle', 'cancel') AND setl_time <> ''
          GROUP BY SUBSTRING(setl_time FROM 12 FOR 2) ORDER BY 1",
    )
    .bind(date)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        json!({"hour": r.get::<String, _>("hour"), "checkouts": r.get::<i64, _>("checkouts"),
            "medfee_sumamt": f(r.get::<i64, _>("medfee"))})
    })
    .collect::<Vec<_>>();
    Ok(
        json!({"date": date, "checkouts": tot[0], "medfee_sumamt": f(tot[1]),
        "fund_pay_sumamt": f(tot[2]), "acct_pay": f(tot[3]), "acct_mulaid_pay": f(tot[4]),
        "cash": f(tot[5]), "card": f(tot[6]), "counters": counters, "hours": hours}),
    )
}

/// The same figures for one counter from its own ledger (a counter without a hub, or
/// the hub down): `counter` names it in `counters`.
pub async fn counter_day(
    ledger: &ledger::Ledger,
    date: &str,
    counter: &str,
) -> ledger::Result<Value> {
    let f = |v: Fen| v.to_string();
    let (mut n, mut medfee, mut fund, mut acct, mut mulaid) =
        (0i64, Fen::ZERO, Fen::ZERO, Fen::ZERO, Fen::ZERO);
    let mut hours: std::collections::BTreeMap<String, (i64, Fen)> = Default::default();
    for s in ledger.settlements().await? {
        let Some(t) = s.setl_time.as_deref().filter(|t| t.starts_with(date)) else {
            continue;
        };
        let one = match s.kind {
            ledger::SettlementKind::Settle => 1,
            ledger::SettlementKind::Cancel => -1,
        };
        n += one;
        medfee += s.medfee_sumamt;
        fund += s.fund_pay_sumamt;
        acct += s.acct_pay;
        mulaid += s.acct_mulaid_pay;
        let h = hours
            .entry(t.get(11..13).unwrap_or("00").to_string())
            .or_insert((0, Fen::ZERO));
        h.0 += one;
        h.1 += s.medfee_sumamt;
    }
    let (mut cash, mut card) = (Fen::ZERO, Fen::ZERO);
    for p in ledger.payments_on(date).await? {
        match p.payment.channel {
            ledger::PaymentChannel::Cash => cash += p.payment.amount,
            ledger::PaymentChannel::Card => card += p.payment.amount,
            _ => {}
        }
    }
    let hours: Vec<Value> = hours
        .into_iter()
        .map(|(hour, (c, m))| json!({"hour": hour, "checkouts": c, "medfee_sumamt": f(m)}))
        .collect();
    Ok(
        json!({"date": date, "checkouts": n, "medfee_sumamt": f(medfee),
        "fund_pay_sumamt": f(fund), "acct_pay": f(acct), "acct_mulaid_pay": f(mulaid),
        "cash": f(cash), "card": f(card),
        "counters": [{"counter": counter, "checkouts": n, "medfee_sumamt": f(medfee),
            "fund_pay_sumamt": f(fund), "acct_pay": f(acct), "acct_mulaid_pay": f(mulaid),
            "cash": f(cash), "card": f(card)}],
        "hours": hours}),
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The day's figures (as [`day`] or [`counter_day`] give them) as the CSV file finance
/// takes into its spreadsheet: a BOM (Excel reads UTF-8), who and when, one row per
/// counter and the total, then the settlements per hour.
pub fn to_csv(v: &Value, institution: &str, operator: &str, generated: &str) -> String {
    let s = |x: &Value| match x {
        Value::String(t) => t.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let cols = [
        "checkouts",
        "medfee_sumamt",
        "fund_pay_sumamt",
        "acct_pay",
        "acct_mulaid_pay",
        "cash",
        "card",
    ];
    let mut rows: Vec<Vec<String>> = vec![
        vec!["机构".into(), institution.into()],
        vec!["日期".into(), s(&v["date"])],
        vec!["导出人".into(), operator.into()],
        vec!["导出时间".into(), generated.into()],
        vec![],
        [
            "收费台",
            "结算笔数",
            "医疗费总额",
            "统筹基金支付",
            "个人账户支付",
            "共济账户支付",
            "现金",
            "银行卡",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect(),
    ];
    for c in v["counters"].as_array().into_iter().flatten() {
        let mut r = vec![s(&c["counter"])];
        r.extend(cols.iter().map(|k| s(&c[*k])));
        rows.push(r);
    }
    let mut total = vec!["合计".to_string()];
    total.extend(cols.iter().map(|k| s(&v[*k])));
    rows.push(total);
    rows.push(vec![]);
    rows.push(vec!["时段".into(), "结算笔数".into(), "医疗费总额".into()]);
    for h in v["hours"].as_array().into_iter().flatten() {
        rows.push(vec![
            format!("{}:00", s(&h["hour"])),
            s(&h["checkouts"]),
            s(&h["medfee_sumamt"]),
        ]);
    }
    let mut out = String::from("\u{feff}");
    for r in rows {
        out.push_str(&r.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
