//! Sign-in (签到) and sign-out: the operator's password is checked against the
//! ledger's argon2 hash; the first start asks for a supervisor account.

use tauri::State;

use crate::dto::{Role, SessionInfo};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn role_of(r: ledger::Role) -> Role {
    match r {
        ledger::Role::Supervisor => Role::Supervisor,
        ledger::Role::Cashier => Role::Cashier,
    }
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
        ledger::Error::Auth(_) => checkout::ErrorCode::Auth,
        ledger::Error::Invalid(_) => checkout::ErrorCode::Validation,
        _ => checkout::ErrorCode::Storage,
    };
    AppError::new(code, e.message_zh(), action)
}

#[tauri::command]
pub async fn session_current(state: State<'_, AppState>) -> AppResult<Option<SessionInfo>> {
    Ok(state.session.lock().await.clone())
}

#[tauri::command]
pub async fn session_needs_first_supervisor(state: State<'_, AppState>) -> AppResult<bool> {
    let ops = state.ledger.operators().await.map_err(ledger_error)?;
    Ok(ops.is_empty())
}

#[tauri::command]
pub async fn session_create_first_supervisor(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    operator_id: String,
    name: String,
    password: String,
) -> AppResult<SessionInfo> {
    if operator_id.trim().is_empty() || name.trim().is_empty() {
        return Err(AppError::validation("工号和姓名不能为空。"));
    }
    if let Some(why) = ledger::password_problem(operator_id.trim(), &password) {
        return Err(AppError::validation(why));
    }
    if !state
        .ledger
        .operators()
        .await
        .map_err(ledger_error)?
        .is_empty()
    {
        return Err(AppError::new(
            checkout::ErrorCode::Forbidden,
            "本机已有账户，不能再创建首个主管。",
            "请用已有账户签到；新账户由主管在设置中添加。",
        ));
    }
    state
        .ledger
        .create_operator(
            &operator_id,
            &name,
            ledger::Role::Supervisor,
            &password,
            state.now(),
        )
        .await
        .map_err(ledger_error)?;
    session_sign_in(app, state, operator_id, password).await
}

#[tauri::command]
pub async fn session_sign_in(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    operator_id: String,
    password: String,
) -> AppResult<SessionInfo> {
    let op = state
        .ledger
        .verify_password(&operator_id, &password, state.now())
        .await
        .map_err(ledger_error)?;
    let s = SessionInfo {
        operator_id: op.id.clone(),
        name: op.name.clone(),
        role: role_of(op.role),
    };
    *state.session.lock().await = Some(s.clone());
    {
        // After a restart the patient who was at the counter comes back on the screen.
        let mut cur = state.current.lock().await;
        if cur.is_none() {
            *cur = crate::counter::unfinished_checkout(&state, &s.operator_id).await;
        }
    }
    let idle = state.current.lock().await.is_none();
    state.arm_scanner(idle);
    crate::counter::after_sign_in(&app, &state, &s);
    Ok(s)
}

#[tauri::command]
pub async fn session_sign_out(state: State<'_, AppState>) -> AppResult<()> {
    state.arm_scanner(false);
    if let Some(s) = state.session.lock().await.clone() {
        // 9002 goes through the queue; the background replay sends it.
        let op = crate::counter::op_of(&s);
        if let Err(e) = state.engine.sign_out(&op).await {
            tracing::warn!("sign-out: {}", e.message);
        }
        let engine = state.engine.clone();
        tauri::async_runtime::spawn(async move {
            let _ = engine.sync_queue(&op, true).await;
        });
    }
    *state.session.lock().await = None;
    // Nothing of this cashier's stays on the counter for the next one: the patient
    // on the screen (resumed at their next sign-in) and the last end-of-day result.
    *state.current.lock().await = None;
    *state.last_reconcile.lock().await = None;
    Ok(())
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
            checkout::ErrorCode::Forbidden,
            "只有主管可以执行此操作。",
            "请主管签到后再操作。",
        ));
    }
    Ok(s)
}

fn operator_view(o: ledger::Operator) -> crate::dto::OperatorView {
    crate::dto::OperatorView {
        locked: o.locked_until.is_some(),
        id: o.id,
        name: o.name,
        role: role_of(o.role),
        active: o.active,
    }
}

/// The accounts (supervisors only).
#[tauri::command]
pub async fn users_list(state: State<'_, AppState>) -> AppResult<Vec<crate::dto::OperatorView>> {
    require_supervisor(&state).await?;
    let ops = state.ledger.operators().await.map_err(ledger_error)?;
    Ok(ops.into_iter().map(operator_view).collect())
}

/// A supervisor adds a cashier (or another supervisor).
#[tauri::command]
pub async fn users_add(
    state: State<'_, AppState>,
    operator_id: String,
    name: String,
    role: String,
    password: String,
) -> AppResult<Vec<crate::dto::OperatorView>> {
    require_supervisor(&state).await?;
    if let Some(why) = ledger::password_problem(operator_id.trim(), &password) {
        return Err(AppError::validation(why));
    }
    let role = ledger::Role::parse(&role).map_err(ledger_error)?;
    state
        .ledger
        .create_operator(
            operator_id.trim(),
            name.trim(),
            role,
            &password,
            state.now(),
        )
        .await
        .map_err(ledger_error)?;
    users_list(state).await
}
