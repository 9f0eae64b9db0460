//! The window's commands, grouped by screen; each is a short adapter from the
//! engine to the DTOs (no business rule here). Shared helpers live in this module.

pub mod bill;
pub mod checkout;
pub mod history;
pub mod queue;
pub mod reconcile;
pub mod session;
pub mod settings;
pub mod view;

use ::checkout::CheckoutState;

use crate::dto::{CheckoutView, Role, SessionInfo};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub(crate) use view::{idle_view, to_dto};

pub(crate) fn op_of(s: &crate::dto::SessionInfo) -> ::checkout::Operator {
    ::checkout::Operator {
        id: s.operator_id.clone(),
        name: s.name.clone(),
    }
}

pub(crate) fn checkout_error(e: ::checkout::CheckoutError) -> AppError {
    let mut message = e.message;
    if let Some(d) = e.detail.filter(|d| !d.is_empty()) {
        message = format!("{message}（{d}）");
    }
    AppError::new(e.kind, message, e.action)
}

/// The current checkout id, starting one when there is none.
pub(crate) async fn current(state: &AppState, op: &::checkout::Operator) -> AppResult<String> {
    let mut cur = state.current.lock().await;
    if let Some(id) = cur.clone() {
        return Ok(id);
    }
    let v = state.engine.start(op).await.map_err(checkout_error)?;
    *cur = Some(v.id.clone());
    state.arm_scanner(false);
    Ok(v.id)
}

pub(crate) async fn show(state: &AppState, id: &str) -> AppResult<CheckoutView> {
    let v = state.engine.view(id).await.map_err(checkout_error)?;
    Ok(to_dto(v, state.config().mask_patient_name))
}

/// Partial refund: cancel the whole settlement (supervisor) and re-settle the
/// lines the patient keeps as a new checkout, which becomes the current one
/// (its cash part is collected as usual).
/// Refuse to put another checkout on the counter while a patient is in progress there.
pub(crate) async fn ensure_counter_free(
    state: &AppState,
    current: &Option<String>,
    then: &str,
) -> AppResult<()> {
    let Some(id) = current else {
        return Ok(());
    };
    let v = state.engine.view(id).await.map_err(checkout_error)?;
    if matches!(
        v.state,
        CheckoutState::New
            | CheckoutState::Done
            | CheckoutState::Refunded
            | CheckoutState::Void
            | CheckoutState::OfflineQueued
    ) {
        return Ok(());
    }
    Err(AppError::new(
        ::checkout::ErrorCode::Validation,
        "收费台上还有未完成的患者。",
        format!("请先完成或取消当前患者，{then}。"),
    ))
}

pub(crate) fn ledger_error(e: ledger::Error) -> AppError {
    let action = match &e {
        ledger::Error::Auth(ledger::AuthError::WrongPassword { .. }) => {
            "请重新输入密码；忘记密码请联系主管重置。"
        }
        ledger::Error::Auth(ledger::AuthError::Locked { .. }) => "请稍后再试，或请主管协助。",
        ledger::Error::Auth(ledger::AuthError::UnknownOperator(_)) => "请检查工号是否正确。",
        ledger::Error::Auth(_) => "请由有权限的主管操作。",
        ledger::Error::Invalid(_) => "请检查输入后重试。",
        _ => "请联系信息科检查账本文件；已完成的结算不会丢失。",
    };
    let code = match &e {
        ledger::Error::Auth(_) => ::checkout::ErrorCode::Auth,
        ledger::Error::Invalid(_) => ::checkout::ErrorCode::Validation,
        _ => ::checkout::ErrorCode::Storage,
    };
    AppError::new(code, e.message_zh(), action)
}

/// The signed-in operator, or `not_signed_in`.
pub(crate) async fn require_session(state: &AppState) -> AppResult<SessionInfo> {
    state
        .session
        .lock()
        .await
        .clone()
        .ok_or_else(AppError::not_signed_in)
}

/// Settings and other guarded actions need a supervisor signed in.
pub(crate) async fn require_supervisor(state: &AppState) -> AppResult<SessionInfo> {
    let s = require_session(state).await?;
    if s.role != Role::Supervisor {
        return Err(AppError::new(
            ::checkout::ErrorCode::Forbidden,
            "只有主管可以执行此操作。",
            "请主管签到后再操作。",
        ));
    }
    Ok(s)
}

/// The settlement a window action names (refund, reprint), or a validation error.
pub(crate) async fn settlement_of(
    state: &AppState,
    setl_id: &str,
) -> AppResult<ledger::SettlementRecord> {
    state
        .ledger
        .settlement(setl_id)
        .await
        .map_err(ledger_error)?
        .ok_or_else(|| AppError::validation(format!("没有结算号 {setl_id}。")))
}
