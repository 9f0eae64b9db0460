//! Sign-in (签到) and sign-out: the operator's password is checked against the
//! ledger's argon2 hash; the first start asks for a supervisor account.

use tauri::State;

use super::*;
use crate::dto::SessionInfo;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use tauri::{Emitter, Manager};

pub async fn app_info(app: tauri::AppHandle) -> AppResult<crate::dto::AppInfo> {
    match app.try_state::<AppState>() {
        Some(state) => Ok(state.info()),
        None => Err(app
            .try_state::<crate::StartupFailure>()
            .map(|f| f.0.clone())
            .unwrap_or_else(|| AppError::system("启动未完成"))),
    }
}

pub async fn session_current(state: State<'_, AppState>) -> AppResult<Option<SessionInfo>> {
    Ok(state.counter.signed().await.map(|s| session_info(&s)))
}

pub async fn session_needs_first_supervisor(state: State<'_, AppState>) -> AppResult<bool> {
    state
        .counter
        .needs_first_account()
        .await
        .map_err(checkout_error)
}

pub async fn session_create_first_supervisor(
    state: State<'_, AppState>,
    operator_id: String,
    name: String,
    password: String,
) -> AppResult<SessionInfo> {
    let s = state
        .counter
        .create_first_supervisor(&operator_id, &name, &password)
        .await
        .map_err(checkout_error)?;
    signed_in(&state).await;
    Ok(session_info(&s))
}

pub async fn session_sign_in(
    state: State<'_, AppState>,
    operator_id: String,
    password: String,
) -> AppResult<SessionInfo> {
    let s = state
        .counter
        .sign_in(operator_id.trim(), &password)
        .await
        .map_err(checkout_error)?;
    signed_in(&state).await;
    Ok(session_info(&s))
}

/// The camera is armed for the next patient when nobody is on the counter.
async fn signed_in(state: &AppState) {
    let idle = state.counter.is_idle().await;
    state.arm_scanner(idle);
}

pub async fn session_sign_out(state: State<'_, AppState>) -> AppResult<()> {
    state.arm_scanner(false);
    state.counter.sign_out().await.map_err(checkout_error)
}

fn operator_view(o: ledger::Operator) -> crate::dto::OperatorView {
    let s = ::checkout::Signed {
        id: o.id.clone(),
        name: o.name.clone(),
        role: o.role,
    };
    crate::dto::OperatorView {
        locked: o.locked_until.is_some(),
        id: o.id,
        name: o.name,
        role: session_info(&s).role,
        active: o.active,
    }
}

/// The accounts (those who manage accounts only).
pub async fn users_list(state: State<'_, AppState>) -> AppResult<Vec<crate::dto::OperatorView>> {
    require(&state, ledger::Action::ManageUsers).await?;
    let ops = state.ledger.operators().await.map_err(ledger_error)?;
    Ok(ops.into_iter().map(operator_view).collect())
}

/// A supervisor adds a cashier (or another supervisor); an admin adds any role.
pub async fn users_add(
    state: State<'_, AppState>,
    operator_id: String,
    name: String,
    role: String,
    password: String,
) -> AppResult<Vec<crate::dto::OperatorView>> {
    let role = ledger::Role::parse(&role).map_err(ledger_error)?;
    state
        .counter
        .add_operator(&operator_id, &name, role, &password)
        .await
        .map_err(checkout_error)?;
    users_list(state).await
}

/// Forward the counter's background events to the window: after recovery the
/// checkout on the screen is shown as recovery left it.
pub(crate) fn forward_events(app: tauri::AppHandle) {
    let st = app.state::<AppState>();
    let mut rx = st.counter.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(::checkout::CounterEvent::CheckoutChanged(id)) => {
                    let st = app.state::<AppState>();
                    if let Ok(v) = show(&st, &id).await {
                        let _ = app.emit("checkout://view", v);
                    }
                }
                Ok(::checkout::CounterEvent::SessionEnded { reason, .. }) => {
                    app.state::<AppState>().arm_scanner(false);
                    let _ = app.emit("session://ended", reason);
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    });
}
