//! History screen: the day's checkouts, reprints, finishing an unpaid one.

use ::checkout::{CheckoutMode, CheckoutState};
use tauri::State;

use super::*;
use crate::dto::{CheckoutView, HistoryItemView};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn history_list(state: State<'_, AppState>) -> AppResult<Vec<HistoryItemView>> {
    require(&state, ledger::Action::Checkout).await?;
    let states = [
        CheckoutState::Done,
        CheckoutState::Settled,
        CheckoutState::Held,
        CheckoutState::Refunded,
        CheckoutState::OfflineQueued,
        CheckoutState::Settling,
        CheckoutState::Refunding,
    ];
    let recs = state
        .ledger
        .checkouts(&states, 300)
        .await
        .map_err(ledger_error)?;
    let mask = state.config().mask_patient_name;
    let mut out = Vec::new();
    for r in recs {
        let v = state.engine.view(&r.id).await.map_err(checkout_error)?;
        let name = v
            .person
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "（自费）".into());
        let printed = match &r.setl_id {
            Some(s) => state.ledger.receipt_print_status(s).await.ok().flatten(),
            None => None,
        };
        let print_state = printed.as_deref().map(|x| {
            if x.starts_with("printed") {
                "printed"
            } else {
                "failed"
            }
            .to_string()
        });
        let print_status = printed.map(|x| {
            if x.starts_with("printed") {
                "已打印".to_string()
            } else if let Some(why) = x.strip_prefix("failed:") {
                format!("打印失败（{why}），请补打")
            } else {
                x
            }
        });
        out.push(HistoryItemView {
            checkout_id: r.id.clone(),
            time: r.updated_at.chars().take(19).collect(),
            patient: if mask {
                voucher::mask_name(&name)
            } else {
                name
            },
            total: v.total,
            cash_part: v.paid,
            setl_id: r.setl_id.clone(),
            state_label: if r.mode == CheckoutMode::Adopted {
                "对账补录（中心有、本机无），请核对收款".into()
            } else {
                r.state.label_zh().into()
            },
            state: r.state,
            mode: r.mode,
            resumable: ::checkout::counter::resumable(r.state),
            print_state,
            refundable: ::checkout::counter::refundable(r.state, r.mode, r.setl_id.is_some()),
            print_status,
            lines: v
                .lines
                .iter()
                .map(|l| format!("{} × {} = ¥{}", l.name, l.cnt, l.amount))
                .collect(),
        });
    }
    Ok(out)
}

/// Print a receipt again, marked 补打 (no money moves).
pub async fn history_reprint(state: State<'_, AppState>, setl_id: String) -> AppResult<String> {
    require(&state, ledger::Action::Checkout).await?;
    if state
        .ledger
        .receipt_json(&setl_id)
        .await
        .map_err(ledger_error)?
        .is_none()
    {
        // A receipt whose data was never stored (e.g. a crash right after the settlement): build it now.
        let s = settlement_of(&state, &setl_id).await?;
        let refund = s.kind == ledger::SettlementKind::Cancel;
        let data = crate::receipts::receipt_data(&state, &s.checkout_id, refund)
            .await
            .map_err(AppError::system)?;
        state
            .ledger
            .save_receipt(
                &setl_id,
                &s.checkout_id,
                if refund { "refund" } else { "sale" },
                &data,
                state.now(),
            )
            .await
            .map_err(ledger_error)?;
    }
    match crate::receipts::print(&state, &setl_id, true).await {
        Ok(()) => Ok("已补打".into()),
        Err(e) => Err(AppError::new(
            ::checkout::ErrorCode::NoPrinter,
            format!("补打失败：{e}"),
            "请检查打印机后再试；收据 PDF 已保存在数据目录 receipts/ 下。",
        )),
    }
}

/// Put a checkout that was left unfinished (the patient's part not yet collected after
/// a crash, or by a cashier who has gone) back on the counter, to finish it.
pub async fn history_resume(
    state: State<'_, AppState>,
    checkout_id: String,
) -> AppResult<CheckoutView> {
    require(&state, ledger::Action::Checkout).await?;
    state
        .counter
        .resume(&checkout_id)
        .await
        .map_err(checkout_error)?;
    state.arm_scanner(false);
    show(&state, &checkout_id).await
}

/// Today's 电子围栏 flags (those who may read the audit log: supervisors, finance, admin).
pub async fn fence_flags(state: State<'_, AppState>) -> AppResult<Vec<crate::dto::FenceFlagView>> {
    require(&state, ledger::Action::ReadAudit).await?;
    let since = state.now().format("%Y-%m-%d 00:00:00").to_string();
    let flags = state
        .engine
        .fence_flags(&since)
        .await
        .map_err(checkout_error)?;
    Ok(flags
        .into_iter()
        .map(|f| crate::dto::FenceFlagView {
            kind_label: f.kind.label_zh().into(),
            kind: f.kind,
            checkout_id: f.checkout_id,
            operator: f.operator,
            time: f.time,
            detail: f.detail,
        })
        .collect())
}
