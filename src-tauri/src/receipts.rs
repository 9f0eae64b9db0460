//! Receipt files and printing for the app. The PDF goes to the data
//! directory (receipts/), then to the CUPS printer from the settings. A failed
//! print is recorded for reprint; the settlement stands either way.

use std::path::PathBuf;

use serde_json::Value;

use crate::state::AppState;

/// The receipt data as stored in the ledger (the JSON of `receipt::ReceiptData`, plus print status).
pub(crate) async fn receipt_data(
    state: &AppState,
    checkout_id: &str,
    refund: bool,
) -> anyhow::Result<Value> {
    let mask = state.config().mask_patient_name;
    let d = state
        .engine
        .receipt_data(checkout_id, refund, mask)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(serde_json::to_value(d)?)
}

fn pdf_path(state: &AppState, key: &str, reprint: bool) -> PathBuf {
    let dir = state.data_dir.join("receipts");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(if reprint {
        format!("{key}-补打.pdf")
    } else {
        format!("{key}.pdf")
    })
}

/// Render the stored receipt `key` and print it; records the outcome.
pub(crate) async fn print(state: &AppState, key: &str, reprint: bool) -> anyhow::Result<()> {
    let Some(v) = state.ledger.receipt_json(key).await? else {
        anyhow::bail!("no receipt data for {key}")
    };
    let mut data: receipt::ReceiptData = serde_json::from_value(v)?;
    data.reprint = reprint;
    let layout = if state.config().receipt_layout == "a5" {
        receipt::Layout::A5
    } else {
        receipt::Layout::Roll80
    };
    let pdf = receipt::render_pdf(&data, layout).map_err(anyhow::Error::msg)?;
    let path = pdf_path(state, key, reprint);
    std::fs::write(&path, pdf)?;
    let printer = state.config().printer.clone();
    let op = state
        .counter
        .signed()
        .await
        .map(|s| s.id)
        .unwrap_or_default();
    let result = tokio::task::spawn_blocking({
        let path = path.clone();
        let key = key.to_string();
        move || receipt::print_pdf(&path, printer.as_deref(), &format!("receipt-{key}"))
    })
    .await?;
    let status = match &result {
        Ok(job) => format!("printed:{job}"),
        Err(e) => format!("failed:{}", e.message_zh().0),
    };
    state
        .ledger
        .set_print_status(key, &status, &op, state.now())
        .await?;
    result
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.message_zh().0))
}
