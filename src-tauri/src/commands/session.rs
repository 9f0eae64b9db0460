//! Sign-in (签到) and sign-out: the operator's password is checked against the
//! ledger's argon2 hash; the first start asks for a supervisor account.

use tauri::State;

use super::*;
use crate::dto::{Role, SessionInfo};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use ::checkout::CheckoutState;
use tauri::{Emitter, Manager};

fn role_of(r: ledger::Role) -> Role {
    match r {
        ledger::Role::Supervisor => Role::Supervisor,
        ledger::Role::Cashier => Role::Cashier,
    }
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
            ::checkout::ErrorCode::Forbidden,
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
            *cur = unfinished_checkout(&state, &s.operator_id).await;
        }
    }
    let idle = state.current.lock().await.is_none();
    state.arm_scanner(idle);
    after_sign_in(&app, &state, &s);
    Ok(s)
}

#[tauri::command]
pub async fn session_sign_out(state: State<'_, AppState>) -> AppResult<()> {
    state.arm_scanner(false);
    if let Some(s) = state.session.lock().await.clone() {
        // 9002 goes through the queue; the background replay sends it.
        let op = super::op_of(&s);
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

/// After sign-in: resolve whatever a crash left (2601 for in-doubt calls) and
/// replay the offline queue, in the background; then keep replaying every 30 s.
/// The newest unfinished checkout of this cashier, to put back on the screen after a
/// restart (the app killed, the machine rebooted). Insurance money already moved
/// (`settling`, `settled`: the patient's part is still to be collected) — always;
/// a patient not yet settled — only from the last 12 hours.
pub(crate) async fn unfinished_checkout(state: &AppState, operator_id: &str) -> Option<String> {
    let recs = state
        .ledger
        .checkouts(
            &[
                CheckoutState::Settling,
                CheckoutState::Settled,
                CheckoutState::Held,
                CheckoutState::Presettled,
                CheckoutState::Billed,
                CheckoutState::Resolved,
            ],
            50,
        )
        .await
        .ok()?;
    let since = (state.now() - chrono::Duration::hours(12))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    recs.into_iter()
        .filter(|r| r.operator_id == operator_id)
        .find(|r| {
            matches!(
                r.state,
                CheckoutState::Settling | CheckoutState::Settled | CheckoutState::Held
            ) || r.created_at >= since
        })
        .map(|r| r.id)
}

pub(crate) fn after_sign_in(app: &tauri::AppHandle, state: &AppState, s: &crate::dto::SessionInfo) {
    let app = app.clone();
    let engine = state.engine.clone();
    let op = op_of(s);
    let first = !state
        .queue_loop
        .swap(true, std::sync::atomic::Ordering::Relaxed);
    tauri::async_runtime::spawn(async move {
        match engine.recover(&op).await {
            Ok(r)
                if !(r.reversed.is_empty()
                    && r.adopted.is_empty()
                    && r.still_in_doubt.is_empty()) =>
            {
                tracing::warn!(?r, "recovered interrupted calls")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("recovery: {}", e.message),
        }
        // The checkout on the screen as recovery left it (a lost 2207 reversed: pre-settled again).
        let st = app.state::<AppState>();
        let cur = st.current.lock().await.clone();
        if let Some(id) = cur {
            if let Ok(v) = show(&st, &id).await {
                let _ = app.emit("checkout://view", v);
            }
        }
        if !first {
            return;
        }
        // The replay always acts as the cashier signed in now, and stops at sign-out
        // (it once kept the first cashier of the process forever).
        loop {
            let st = app.state::<AppState>();
            let Some(s) = st.session.lock().await.clone() else {
                st.queue_loop
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                break;
            };
            if let Err(e) = engine.sync_queue(&op_of(&s), false).await {
                tracing::warn!("queue: {}", e.message);
            }
            if let Err(e) = st.ledger.checkpoint().await {
                tracing::warn!("checkpoint: {e}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        }
    });
}
