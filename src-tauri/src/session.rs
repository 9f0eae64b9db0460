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

fn auth_error(e: ledger::LedgerError) -> AppError {
    AppError::new(e.code(), e.message_zh(), e.action_zh())
}

#[tauri::command]
pub async fn session_current(state: State<'_, AppState>) -> AppResult<Option<SessionInfo>> {
    Ok(state.session.lock().await.clone())
}

#[tauri::command]
pub async fn session_needs_first_supervisor(state: State<'_, AppState>) -> AppResult<bool> {
    let n = state.ledger.operator_count().await.map_err(auth_error)?;
    Ok(n == 0)
}

#[tauri::command]
pub async fn session_create_first_supervisor(
    state: State<'_, AppState>,
    operator_id: String,
    name: String,
    password: String,
) -> AppResult<SessionInfo> {
    if operator_id.trim().is_empty() || name.trim().is_empty() {
        return Err(AppError::validation("工号和姓名不能为空。"));
    }
    if password.chars().count() < 8 {
        return Err(AppError::validation("密码至少 8 位。"));
    }
    if state.ledger.operator_count().await.map_err(auth_error)? > 0 {
        return Err(AppError::new(
            "forbidden",
            "本机已有账户，不能再创建首个主管。",
            "请用已有账户签到；新账户由主管在设置中添加。",
        ));
    }
    state
        .ledger
        .create_operator(&operator_id, &name, ledger::Role::Supervisor, &password)
        .await
        .map_err(auth_error)?;
    session_sign_in(state, operator_id, password).await
}

#[tauri::command]
pub async fn session_sign_in(
    state: State<'_, AppState>,
    operator_id: String,
    password: String,
) -> AppResult<SessionInfo> {
    let op = state
        .ledger
        .verify_password(&operator_id, &password)
        .await
        .map_err(auth_error)?;
    let s = SessionInfo {
        operator_id: op.id.clone(),
        name: op.name.clone(),
        role: role_of(op.role),
    };
    *state.session.lock().await = Some(s.clone());
    Ok(s)
}

#[tauri::command]
pub async fn session_sign_out(state: State<'_, AppState>) -> AppResult<()> {
    *state.session.lock().await = None;
    Ok(())
}
