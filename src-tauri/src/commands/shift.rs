//! The shift screen (交班): open with a float, cash in and out, hand the counter to the
//! next cashier, close with a blind count and print the 交班单. The rules are
//! `checkout::shift`'s; this only adapts them.

use money::Fen;
use tauri::State;

use super::*;
use crate::dto::{SessionInfo, ShiftEventView, ShiftReportView, ShiftView};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn amount(s: &str, what: &str) -> AppResult<Fen> {
    Fen::parse(s.trim())
        .map_err(|_| AppError::validation(format!("{what}格式不对（如 500 或 500.00）。")))
}

fn view(s: ::checkout::shift::ShiftStatus) -> ShiftView {
    ShiftView {
        shift_id: s.shift.id,
        opened_by: s.shift.opened_by,
        opened_at: s.shift.opened_at.chars().take(19).collect(),
        float: s.shift.float,
        on_duty: s.shift.on_duty,
        events: s
            .events
            .into_iter()
            .map(|e| ShiftEventView {
                kind: e.kind,
                amount: e.amount,
                note: e.note,
                by: e.by,
                to: e.to,
                at: e.at.chars().take(19).collect(),
            })
            .collect(),
    }
}

async fn current_view(state: &AppState) -> AppResult<Option<ShiftView>> {
    Ok(state
        .counter
        .shift_status()
        .await
        .map_err(checkout_error)?
        .map(view))
}

pub async fn shift_current(state: State<'_, AppState>) -> AppResult<Option<ShiftView>> {
    current_view(&state).await
}

pub async fn shift_open(state: State<'_, AppState>, float: String) -> AppResult<Option<ShiftView>> {
    state
        .counter
        .open_shift(amount(&float, "备用金")?)
        .await
        .map_err(checkout_error)?;
    current_view(&state).await
}

pub async fn shift_cash(
    state: State<'_, AppState>,
    cash_in: bool,
    amount_text: String,
    note: String,
) -> AppResult<Option<ShiftView>> {
    state
        .counter
        .shift_cash(cash_in, amount(&amount_text, "金额")?, &note)
        .await
        .map_err(checkout_error)?;
    current_view(&state).await
}

/// The next cashier takes the counter: they are signed in, the outgoing one out.
pub async fn shift_hand_over(
    state: State<'_, AppState>,
    to_id: String,
    to_password: String,
    counted: String,
) -> AppResult<SessionInfo> {
    let counted = amount(&counted, "交接点钞金额")?;
    let s = state
        .counter
        .hand_over_and_take(to_id.trim(), &to_password, counted)
        .await
        .map_err(checkout_error)?;
    let idle = state.counter.is_idle().await;
    state.arm_scanner(idle);
    Ok(session_info(&s))
}

/// Close with the blind count: the 交班单, kept as a PDF under `<data dir>/reports/`
/// and printed on the receipt printer (a failed print loses nothing: the PDF stays).
pub async fn shift_close(
    state: State<'_, AppState>,
    counted: String,
) -> AppResult<ShiftReportView> {
    let rep = state
        .counter
        .close_shift(amount(&counted, "实点现金")?)
        .await
        .map_err(checkout_error)?;
    let layout = if state.config().receipt_layout == "a5" {
        receipt::Layout::A5
    } else {
        receipt::Layout::Roll80
    };
    let pdf = receipt::render_sheet(&rep.sheet(&state.config().fixmedins_name), layout)
        .map_err(AppError::system)?;
    let dir = state.data_dir.join("reports");
    let path = dir.join(format!("交班单-{}.pdf", rep.shift_id));
    std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&path, &pdf))
        .map_err(AppError::storage)?;
    let printer = state.config().printer.clone();
    let print_status = tokio::task::spawn_blocking({
        let path = path.clone();
        let job = format!("shift-{}", rep.shift_id);
        move || receipt::print_pdf(&path, printer.as_deref(), &job)
    })
    .await
    .map_err(AppError::system)?
    .map(|job| format!("printed:{job}"))
    .unwrap_or_else(|e| format!("failed:{}", e.message_zh().0));
    Ok(ShiftReportView {
        shift_id: rep.shift_id.clone(),
        lines: rep
            .lines()
            .into_iter()
            .map(|(label, value)| crate::dto::SheetLineView { label, value })
            .collect(),
        expected_cash: rep.expected_cash,
        counted: rep.counted,
        variance: rep.variance,
        handovers: rep.handovers.clone(),
        pdf_path: path.display().to_string(),
        print_status,
    })
}
