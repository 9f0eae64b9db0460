//! The window's commands, grouped by screen; each is a short adapter from the
//! engine to the DTOs (no business rule here). Shared helpers live in this module.

pub mod bill;
pub mod checkout;
pub mod finance;
pub mod history;
pub mod queue;
pub mod reconcile;
pub mod session;
pub mod settings;
pub mod shift;
pub mod view;
pub mod visit;

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
pub(crate) async fn current(state: &AppState) -> AppResult<String> {
    let id = state
        .counter
        .current_or_start()
        .await
        .map_err(checkout_error)?;
    state.arm_scanner(false);
    Ok(id)
}

pub(crate) async fn show(state: &AppState, id: &str) -> AppResult<CheckoutView> {
    let v = state.engine.view(id).await.map_err(checkout_error)?;
    Ok(to_dto(v, state.config().mask_patient_name))
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

pub(crate) fn session_info(s: &::checkout::Signed) -> SessionInfo {
    SessionInfo {
        operator_id: s.id.clone(),
        name: s.name.clone(),
        role: match s.role {
            ledger::Role::Cashier => Role::Cashier,
            ledger::Role::Supervisor => Role::Supervisor,
            ledger::Role::Finance => Role::Finance,
            ledger::Role::Admin => Role::Admin,
        },
    }
}

/// The signed-in operator, if their role allows `action` (the rule is the engine's).
pub(crate) async fn require(state: &AppState, action: ledger::Action) -> AppResult<SessionInfo> {
    state
        .counter
        .require(action)
        .await
        .map(|s| session_info(&s))
        .map_err(checkout_error)
}

/// Anyone signed in.
pub(crate) async fn signed(state: &AppState) -> AppResult<SessionInfo> {
    state
        .counter
        .signed()
        .await
        .map(|s| session_info(&s))
        .ok_or_else(AppError::not_signed_in)
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
