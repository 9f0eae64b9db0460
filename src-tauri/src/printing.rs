//! After a checkout is done or refunded: keep the receipt data in the ledger
//! and print it. A failed print never touches the settlement: it is marked
//! for reprint.

use crate::state::AppState;

/// The checkout is done: store its receipt data and print it.
pub(crate) async fn after_done(state: &AppState, checkout_id: &str) {
    if let Err(e) = store_and_print(state, checkout_id, false).await {
        tracing::warn!(checkout_id, "receipt: {e:#}");
    }
    notify_his(state).await;
}

pub(crate) async fn after_refund(state: &AppState, checkout_id: &str) {
    if let Err(e) = store_and_print(state, checkout_id, true).await {
        tracing::warn!(checkout_id, "refund receipt: {e:#}");
    }
    notify_his(state).await;
}

/// An offline collection's fee statement (the patient's proof for the queued
/// settlement, or for 手工报销): stored under the checkout id and printed.
pub(crate) async fn after_offline(state: &AppState, checkout_id: &str) {
    let r: anyhow::Result<()> = async {
        let d = state
            .engine
            .offline_statement(checkout_id, state.config().mask_patient_name)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let v = serde_json::to_value(d)?;
        state
            .ledger
            .save_receipt(checkout_id, checkout_id, "offline", &v, state.now())
            .await?;
        crate::receipts::print(state, checkout_id, false).await
    }
    .await;
    if let Err(e) = r {
        tracing::warn!(checkout_id, "offline statement: {e:#}");
    }
}

/// Tell the HIS at once (in the background: a HIS that is down never holds up the
/// counter; the queue resends).
async fn notify_his(state: &AppState) {
    let Some(s) = state.counter.signed().await else {
        return;
    };
    let e = state.engine.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(x) = e.notify_his(&s.operator()).await {
            tracing::warn!("HIS notice: {}", x.message);
        }
    });
}

async fn store_and_print(state: &AppState, checkout_id: &str, refund: bool) -> anyhow::Result<()> {
    let rec = state
        .ledger
        .checkout(checkout_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no checkout {checkout_id}"))?;
    let Some(setl_id) = rec.setl_id.clone() else {
        return Ok(());
    };
    let key = if refund {
        rec.ctx
            .get("refund_setl_id")
            .and_then(|v| v.as_str())
            .unwrap_or(&setl_id)
            .to_string()
    } else {
        setl_id.clone()
    };
    let data = crate::receipts::receipt_data(state, checkout_id, refund).await?;
    state
        .ledger
        .save_receipt(
            &key,
            checkout_id,
            if refund { "refund" } else { "sale" },
            &data,
            state.now(),
        )
        .await?;
    crate::receipts::print(state, &key, false).await
}
