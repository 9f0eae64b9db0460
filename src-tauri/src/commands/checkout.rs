//! Checkout screen: resolve, pre-settle, settle, pay, offline, refunds.

use ::checkout::CheckoutState;
use money::Fen;
use tauri::State;

use super::*;
use crate::dto::CheckoutView;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn checkout_view(state: State<'_, AppState>) -> AppResult<CheckoutView> {
    require(&state, ledger::Action::Checkout).await?;
    let id = state.counter.current().await;
    match id {
        Some(id) => show(&state, &id).await,
        None => Ok(idle_view()),
    }
}

pub async fn checkout_resolve_qr(
    state: State<'_, AppState>,
    text: String,
) -> AppResult<CheckoutView> {
    resolve_qr(&state, text).await
}

/// A USB scanner's code, from any screen: resolved in Rust as a camera code is, the
/// outcome told to the window as an event (the checkout screen may not be on show;
/// a template ref dropped such scans).
pub async fn checkout_scanned(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    text: String,
) -> AppResult<()> {
    require(&state, ledger::Action::Checkout).await?;
    use tauri::Emitter;
    match resolve_qr(&state, text).await {
        Ok(v) => {
            let _ = app.emit("checkout://view", v);
        }
        Err(e) => {
            let _ = app.emit("checkout://error", e);
        }
    }
    Ok(())
}

/// A code from the camera or a scanner: resolve it for the open (or a new) checkout.
pub(crate) async fn resolve_qr(state: &AppState, text: String) -> AppResult<CheckoutView> {
    let op = op_of(&require(state, ledger::Action::Checkout).await?);
    let id = current(state).await?;
    if let Err(e) = state.engine.resolve_qr(&op, &id, &text).await {
        // Nothing was resolved: the counter waits for the (next) code again.
        if state
            .engine
            .view(&id)
            .await
            .map(|v| v.person.is_none())
            .unwrap_or(false)
        {
            state.arm_scanner(true);
        }
        return Err(checkout_error(e));
    }
    show(state, &id).await
}

pub async fn checkout_resolve_id(
    state: State<'_, AppState>,
    cert_no: String,
    name: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    state
        .engine
        .resolve_id(&op, &id, &cert_no, &name)
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

pub async fn checkout_presettle(
    state: State<'_, AppState>,
    acct_used: bool,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    state
        .engine
        .presettle(&op, &id, acct_used)
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

pub async fn checkout_settle(state: State<'_, AppState>) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    let v = state
        .engine
        .settle(&op, &id)
        .await
        .map_err(checkout_error)?;
    if v.state == CheckoutState::Done {
        crate::printing::after_done(&state, &id).await;
    }
    show(&state, &id).await
}

pub async fn checkout_pay_cash(
    state: State<'_, AppState>,
    given: String,
) -> AppResult<CheckoutView> {
    let given = Fen::parse(given.trim())
        .map_err(|_| AppError::validation("实收金额格式不对（如 100 或 100.50）。"))?;
    pay(&state, ::checkout::Pay::Cash { given }).await
}

pub async fn checkout_pay_card(
    state: State<'_, AppState>,
    reference: String,
) -> AppResult<CheckoutView> {
    pay(&state, ::checkout::Pay::Card { reference }).await
}

async fn pay(state: &AppState, p: ::checkout::Pay) -> AppResult<CheckoutView> {
    let op = op_of(&require(state, ledger::Action::Checkout).await?);
    let id = current(state).await?;
    state
        .engine
        .pay(&op, &id, p)
        .await
        .map_err(checkout_error)?;
    crate::printing::after_done(state, &id).await;
    show(state, &id).await
}

/// Offline: collect and queue (the center cannot be reached).
pub async fn checkout_offline(
    state: State<'_, AppState>,
    cert_no: String,
    name: String,
    given: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    let given = Fen::parse(given.trim()).map_err(|_| AppError::validation("实收金额格式不对。"))?;
    state
        .engine
        .offline_collect(&op, &id, &cert_no, &name, ::checkout::Pay::Cash { given })
        .await
        .map_err(checkout_error)?;
    crate::printing::after_offline(&state, &id).await;
    show(&state, &id).await
}

pub async fn checkout_reset(state: State<'_, AppState>) -> AppResult<CheckoutView> {
    state.counter.reset().await.map_err(checkout_error)?;
    state.arm_scanner(true);
    Ok(idle_view())
}

pub async fn checkout_refund(
    state: State<'_, AppState>,
    setl_id: String,
    supervisor_id: String,
    supervisor_password: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let s = settlement_of(&state, &setl_id).await?;
    state
        .engine
        .refund(
            &op,
            &s.checkout_id,
            &supervisor_id,
            &supervisor_password,
            "患者退费",
        )
        .await
        .map_err(checkout_error)?;
    crate::printing::after_refund(&state, &s.checkout_id).await;
    show(&state, &s.checkout_id).await
}

pub async fn checkout_partial_refund(
    state: State<'_, AppState>,
    setl_id: String,
    keep: Vec<usize>,
    supervisor_id: String,
    supervisor_password: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let s = settlement_of(&state, &setl_id).await?;
    state
        .counter
        .ensure_free("再办理部分退费")
        .await
        .map_err(checkout_error)?;
    let v = state
        .engine
        .partial_refund(
            &op,
            &s.checkout_id,
            &keep,
            &supervisor_id,
            &supervisor_password,
        )
        .await
        .map_err(checkout_error)?;
    crate::printing::after_refund(&state, &s.checkout_id).await;
    state
        .counter
        .put_on_counter(&v.id, "再办理部分退费")
        .await
        .map_err(checkout_error)?;
    state.arm_scanner(false);
    if v.state == CheckoutState::Done {
        crate::printing::after_done(&state, &v.id).await;
    }
    show(&state, &v.id).await
}

/// A supervisor lets a settlement a 事前事中 rule stopped go ahead, with a reason.
pub async fn checkout_override_rules(
    state: State<'_, AppState>,
    supervisor_id: String,
    supervisor_password: String,
    reason: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    state
        .engine
        .override_rules(&op, &id, &supervisor_id, &supervisor_password, &reason)
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}
