//! Queue screen: the offline queue and the differences it left.

use tauri::State;

use super::*;
use crate::dto::QueueItemView;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn queue_dto(i: &ledger::OutboxItem) -> QueueItemView {
    QueueItemView {
        id: i.id.clone(),
        kind: i.kind.clone(),
        kind_label: match i.kind.as_str() {
            "settle" => "离线医保结算",
            "reverse" => "冲正（2601）",
            "signout" => "签退（9002）",
            _ => "其他",
        }
        .into(),
        created_at: i.created_at.chars().take(19).collect(),
        state: i.state,
        attempts: i.attempts,
        last_error: i.last_error.clone(),
        next_attempt_at: Some(i.next_attempt_at.chars().take(19).collect()),
        summary: i
            .checkout_id
            .clone()
            .map(|c| format!("收费记录 {}", &c[..8.min(c.len())]))
            .unwrap_or_default(),
    }
}

async fn queue_items(state: &AppState) -> AppResult<Vec<QueueItemView>> {
    Ok(state
        .ledger
        .outbox(true)
        .await
        .map_err(ledger_error)?
        .iter()
        .map(queue_dto)
        .collect())
}

pub async fn queue_list(state: State<'_, AppState>) -> AppResult<Vec<QueueItemView>> {
    require(&state, ledger::Action::Checkout).await?;
    queue_items(&state).await
}

pub async fn queue_sync(state: State<'_, AppState>) -> AppResult<Vec<QueueItemView>> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    state
        .engine
        .sync_queue(&op, true)
        .await
        .map_err(checkout_error)?;
    queue_items(&state).await
}

pub async fn queue_retry(state: State<'_, AppState>, id: String) -> AppResult<Vec<QueueItemView>> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    state
        .ledger
        .outbox_retry_now(&id, &op.id, state.now())
        .await
        .map_err(ledger_error)?;
    state
        .engine
        .sync_queue(&op, true)
        .await
        .map_err(checkout_error)?;
    queue_items(&state).await
}

async fn adjustments(state: &AppState) -> AppResult<Vec<crate::dto::AdjustmentView>> {
    Ok(state
        .ledger
        .adjustments(true)
        .await
        .map_err(ledger_error)?
        .into_iter()
        .map(|a| crate::dto::AdjustmentView {
            id: a.id,
            checkout_id: a.checkout_id,
            amount: a.amount,
            reason: a.reason,
            created_at: a.created_at.chars().take(19).collect(),
        })
        .collect())
}

/// Open adjustments (offline estimate vs. settlement) for the cashier to settle.
pub async fn adjustments_list(
    state: State<'_, AppState>,
) -> AppResult<Vec<crate::dto::AdjustmentView>> {
    require(&state, ledger::Action::Checkout).await?;
    adjustments(&state).await
}

/// The cashier collected (or gave back) the difference in cash.
pub async fn adjustment_settle(
    state: State<'_, AppState>,
    id: u32,
) -> AppResult<Vec<crate::dto::AdjustmentView>> {
    let id = i64::from(id);
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let a = state
        .ledger
        .adjustments(true)
        .await
        .map_err(ledger_error)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(|| AppError::validation("这笔差额已处理。"))?;
    let p = ledger::NewPayment {
        checkout_id: a.checkout_id.clone(),
        setl_id: None,
        channel: ledger::PaymentChannel::Cash,
        amount: a.amount,
        given: None,
        change: None,
        reference: None,
        note: Some(if a.amount.is_negative() {
            "离线差额退还患者".into()
        } else {
            "离线差额向患者补收".into()
        }),
    };
    state
        .ledger
        .resolve_adjustment(id, &p, &op.id, state.now())
        .await
        .map_err(ledger_error)?;
    adjustments(&state).await
}
