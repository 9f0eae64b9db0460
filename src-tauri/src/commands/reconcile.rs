//! End-of-day screen: reconciliation and the report for finance.

use money::Fen;
use tauri::State;

use super::*;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// 日结对账 for a day; amounts counted by the cashier are optional.
pub async fn reconcile_day(
    state: State<'_, AppState>,
    day: String,
    include_refunds: bool,
    float: String,
    cash_counted: String,
    card_terminal: String,
) -> AppResult<crate::dto::ReconcileView> {
    let op = op_of(&require(&state, ledger::Action::Reconcile).await?);
    let amount = |s: &str, what: &str| -> AppResult<Option<Fen>> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        Fen::parse(s)
            .map(Some)
            .map_err(|_| AppError::validation(format!("{what}格式不对（如 1200 或 1200.50）。")))
    };
    let float = amount(&float, "备用金")?.unwrap_or(Fen::ZERO);
    let r = state
        .engine
        .reconcile_day(
            &op,
            day.trim(),
            include_refunds,
            float,
            amount(&cash_counted, "现金清点")?,
            amount(&card_terminal, "刷卡终端合计")?,
        )
        .await
        .map_err(checkout_error)?;
    let v = crate::dto::ReconcileView {
        day: r.day.clone(),
        center_balanced: r.center_balanced,
        groups: r
            .groups
            .iter()
            .map(|g| crate::dto::ReconcileGroupView {
                insutype: g.group.insutype.clone(),
                clr_type: g.group.clr_type.clone(),
                setl_optins: g.group.setl_optins.clone(),
                count: g.group.count,
                medfee_sumamt: g.group.medfee_sumamt,
                fund_pay_sumamt: g.group.fund_pay_sumamt,
                acct_pay: g.group.acct_pay,
                balanced: g.balanced,
                center_says: g.stmt_rslt_dscr.clone(),
                differences: g.difference_lines(),
            })
            .collect(),
        settlements: r.counts.settlements,
        refunds: r.counts.refunds,
        medfee_sumamt: r.counts.medfee_sumamt,
        fund_pay_sumamt: r.counts.fund_pay_sumamt,
        acct_pay: r.counts.acct_pay,
        psn_cash_pay: r.counts.psn_cash_pay,
        cash_expected: r.drawer.cash_expected,
        cash_counted: r.drawer.cash_counted,
        cash_variance: r.drawer.cash_variance,
        card_expected: r.drawer.card_expected,
        card_terminal: r.drawer.card_terminal,
        card_variance: r.drawer.card_variance,
        queued: r.queued as u32,
        open_adjustments: r
            .open_adjustments
            .iter()
            .map(|a| a.reason.clone())
            .collect(),
    };
    state.counter.set_last_report(r).await;
    Ok(v)
}

/// The end-of-day result just shown, as a CSV file for finance under
/// `<data dir>/reports/`; returns the file's path.
pub async fn reconcile_export(state: State<'_, AppState>) -> AppResult<String> {
    let s = require(&state, ledger::Action::Reconcile).await?;
    let Some(r) = state.counter.last_report().await else {
        return Err(AppError::new(
            ::checkout::ErrorCode::Validation,
            "还没有对账结果可以导出。",
            "请先按「对账」，再导出。",
        ));
    };
    let now = state.now();
    let text = r.to_csv(
        &state.config().fixmedins_name,
        &format!("{}（{}）", s.name, s.operator_id),
        &now.format("%Y-%m-%d %H:%M:%S").to_string(),
    );
    let path = crate::reports::write(
        &state.data_dir,
        &r.day,
        &text,
        &now.format("%H%M%S").to_string(),
    )
    .map_err(AppError::storage)?;
    tracing::info!(path = %path.display(), day = %r.day, "end-of-day report written");
    Ok(path.display().to_string())
}
