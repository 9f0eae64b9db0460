//! A counter's side: push its ledger's facts to the hub from the hub's high-water mark,
//! in batches, resending after any failure (the hub takes a fact once).
use serde_json::{json, Value};

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pushed {
    pub pushed: usize,
    pub pending: usize,
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

pub(crate) async fn answer(r: reqwest::Response) -> anyhow::Result<Value> {
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        anyhow::bail!(
            "hub HTTP {status}: {}",
            v["message"].as_str().unwrap_or("(no message)")
        );
    }
    Ok(v)
}

/// Drain `ledger`'s facts after the hub's high-water mark; stops at the first failure
/// (what is left is `pending`, sent next time).
pub async fn push(ledger: &ledger::Ledger, hub: &str, key: &str) -> anyhow::Result<Pushed> {
    let c = client();
    let base = hub.trim_end_matches('/');
    let hw = answer(
        c.get(format!("{base}/v1/high-water"))
            .bearer_auth(key)
            .send()
            .await?,
    )
    .await?;
    let mut after = hw["high_water"].as_i64().unwrap_or(0);
    let mut pushed = 0;
    loop {
        let batch = ledger.audit_entries(after, 500).await?;
        if batch.is_empty() {
            break;
        }
        let last = batch.last().map(|f| f.seq).unwrap_or(after);
        let r = c
            .post(format!("{base}/v1/facts"))
            .bearer_auth(key)
            .json(&json!({"facts": batch}))
            .send()
            .await;
        let v = match r {
            Ok(r) => answer(r).await?,
            Err(e) => {
                let pending = ledger.audit_entries(after, i64::MAX).await?.len();
                tracing::warn!("hub push stopped: {e}");
                return Ok(Pushed { pushed, pending });
            }
        };
        let hw = v["high_water"].as_i64().unwrap_or(after);
        pushed += (hw - after).max(0) as usize;
        after = hw;
        if hw < last {
            break;
        }
    }
    let pending = ledger.audit_entries(after, i64::MAX).await?.len();
    Ok(Pushed { pushed, pending })
}

/// Enrol a counter with the administrator's token: its key.
pub async fn enroll(hub: &str, admin_token: &str, counter: &str) -> anyhow::Result<String> {
    let v = answer(
        client()
            .post(format!("{}/v1/enroll", hub.trim_end_matches('/')))
            .bearer_auth(admin_token)
            .json(&json!({"counter": counter}))
            .send()
            .await?,
    )
    .await?;
    Ok(v["key"].as_str().unwrap_or("").to_string())
}

/// The institution's day.
pub async fn report(hub: &str, token: &str, date: &str) -> anyhow::Result<Value> {
    answer(
        client()
            .get(format!("{}/v1/report", hub.trim_end_matches('/')))
            .query(&[("date", date)])
            .bearer_auth(token)
            .send()
            .await?,
    )
    .await
}

/// The institution's settlements of `date` (the administrator's token).
pub async fn settlements(
    hub: &str,
    admin_token: &str,
    date: &str,
) -> anyhow::Result<crate::settlements::DaySettlements> {
    let r = client()
        .get(format!("{}/v1/settlements", hub.trim_end_matches('/')))
        .query(&[("date", date)])
        .bearer_auth(admin_token)
        .timeout(std::time::Duration::from_secs(300))
        .send()
        .await?;
    if !r.status().is_success() {
        let status = r.status();
        answer(r).await?;
        anyhow::bail!("hub HTTP {status}");
    }
    // Read straight into the rows (a day of a large institution is tens of thousands).
    Ok(serde_json::from_slice(&r.bytes().await?)?)
}
