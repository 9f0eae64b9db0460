//! The finance screen (财务): the institution's day from the hub — totals, the shares
//! of fund, account, family pool, cash and card, settlements per hour, per counter —
//! and its CSV export. Without a hub (or with the hub unreachable) it shows this
//! counter's own day from its ledger and says so. Finance and supervisors only.

use money::Fen;
use serde_json::Value;
use tauri::State;

use super::*;
use crate::dto::{FinanceCounterView, FinanceHourView, FinanceView};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn fen(v: &Value) -> Fen {
    v.as_str()
        .and_then(|s| Fen::parse(s).ok())
        .unwrap_or(Fen::ZERO)
}

fn part(v: &Value) -> FinanceCounterView {
    FinanceCounterView {
        counter: v["counter"].as_str().unwrap_or("").to_string(),
        checkouts: v["checkouts"].as_i64().unwrap_or(0),
        medfee_sumamt: fen(&v["medfee_sumamt"]),
        fund_pay_sumamt: fen(&v["fund_pay_sumamt"]),
        acct_pay: fen(&v["acct_pay"]),
        acct_mulaid_pay: fen(&v["acct_mulaid_pay"]),
        cash: fen(&v["cash"]),
        card: fen(&v["card"]),
    }
}

/// The day's figures as JSON (the hub's report, or this counter's), and which.
async fn figures(state: &AppState, day: &str) -> AppResult<(Value, &'static str, Option<String>)> {
    if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
        return Err(AppError::validation(format!(
            "日期 {day} 格式应为 2026-11-25"
        )));
    }
    let cfg = state.config();
    let mut note = None;
    if !cfg.hub_url.is_empty() && !cfg.hub_key.is_empty() {
        match hub::client::report(&cfg.hub_url, &cfg.hub_key, day).await {
            Ok(v) => return Ok((v, "hub", None)),
            Err(e) => {
                tracing::warn!("hub report: {e:#}");
                note = Some(format!("无法连接医院中心库（{e}），以下只是本收费台的数字"));
            }
        }
    }
    let me = cfg
        .hub_key
        .split_once('.')
        .map(|(c, _)| c.to_string())
        .unwrap_or_else(|| "本机".into());
    let v = hub::report::counter_day(&state.ledger, day, &me)
        .await
        .map_err(ledger_error)?;
    Ok((v, "counter", note))
}

pub async fn finance_day(state: State<'_, AppState>, day: String) -> AppResult<FinanceView> {
    require(&state, ledger::Action::InstitutionReport).await?;
    let day = day.trim().to_string();
    let (v, source, source_note) = figures(&state, &day).await?;
    Ok(FinanceView {
        day,
        source: source.into(),
        source_note,
        totals: FinanceCounterView {
            counter: String::new(),
            ..part(&v)
        },
        counters: v["counters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(part)
            .collect(),
        hours: v["hours"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| FinanceHourView {
                hour: h["hour"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0),
                checkouts: h["checkouts"].as_i64().unwrap_or(0),
                medfee_sumamt: fen(&h["medfee_sumamt"]),
            })
            .collect(),
    })
}

/// The day's figures as CSV under `<data dir>/reports/`; returns the file's path.
pub async fn finance_export(state: State<'_, AppState>, day: String) -> AppResult<String> {
    let s = require(&state, ledger::Action::InstitutionReport).await?;
    let day = day.trim().to_string();
    let (v, _, _) = figures(&state, &day).await?;
    let now = state.now();
    let text = hub::report::to_csv(
        &v,
        &state.config().fixmedins_name,
        &format!("{}（{}）", s.name, s.operator_id),
        &now.format("%Y-%m-%d %H:%M:%S").to_string(),
    );
    let name = format!("财务日报-{day}-{}.csv", now.format("%H%M%S"));
    let path =
        crate::reports::write_named(&state.data_dir, &name, &text).map_err(AppError::storage)?;
    Ok(path.display().to_string())
}
