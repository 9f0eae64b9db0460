//! Checkout, history and queue commands: thin adapters from the checkout
//! engine's views to the UI's DTOs. No business rules here.

use checkout::{CheckoutMode, CheckoutState};
use money::{Fen, Qty};
use tauri::{Emitter, Manager, State};

use crate::dto::{
    BillLineView, CatalogItemView, CheckoutStage, CheckoutView, FallbackView, HistoryItemView,
    PaymentView, PersonView, QueueItemView, SplitView,
};
use crate::error::{AppError, AppResult};
use crate::session::{ledger_error, require_session};
use crate::state::AppState;

pub(crate) fn op_of(s: &crate::dto::SessionInfo) -> checkout::Operator {
    checkout::Operator {
        id: s.operator_id.clone(),
        name: s.name.clone(),
    }
}

pub(crate) fn checkout_error(e: checkout::CheckoutError) -> AppError {
    let mut message = e.message;
    if let Some(d) = e.detail.filter(|d| !d.is_empty()) {
        message = format!("{message}（{d}）");
    }
    AppError::new(e.kind, message, e.action)
}

/// The window's stage, from the engine's (one exhaustive match; no rule here).
fn stage_of(s: checkout::Stage) -> CheckoutStage {
    use checkout::Stage as S;
    match s {
        S::Idle => CheckoutStage::Idle,
        S::Resolved => CheckoutStage::Resolved,
        S::PreSettled => CheckoutStage::PreSettled,
        S::InDoubt => CheckoutStage::InDoubt,
        S::Held => CheckoutStage::Held,
        S::Settled => CheckoutStage::Settled,
        S::Done => CheckoutStage::Done,
        S::Queued => CheckoutStage::Queued,
    }
}

fn idle_view() -> CheckoutView {
    CheckoutView {
        stage: CheckoutStage::Idle,
        person: None,
        lines: Vec::new(),
        total: Fen::ZERO,
        acct_used: true,
        split: None,
        setl_id: None,
        due: Fen::ZERO,
        payments: Vec::new(),
        queue_item: None,
        notice: None,
    }
}

pub(crate) fn to_dto(v: checkout::CheckoutView, mask: bool) -> CheckoutView {
    let person = v.person.map(|p| PersonView {
        psn_no: p.psn_no,
        name: if mask {
            voucher::mask_name(&p.name)
        } else {
            p.name
        },
        cert_no_masked: p.certno_masked,
        insutype_label_en: nhsa::dict::insutype_label(&p.insutype).1.into(),
        insutype: p.insutype,
        insutype_label: p.insutype_name,
        balc: p.balc,
        insuplc_admdvs: p.insuplc_admdvs,
        region: match p.region.as_str() {
            "本地" => "local",
            "省内异地" => "in_province",
            _ => "cross_province",
        }
        .into(),
        region_label: p.region,
        notes: p.notes,
    });
    let split = v.split.map(|s| SplitView {
        medfee_sumamt: s.medfee_sumamt,
        hifp_pay: s.hifp_pay,
        other_fund_pay: s.other_fund_pay,
        fund_pay_sumamt: s.fund_pay_sumamt,
        acct_pay: s.acct_pay,
        acct_mulaid_pay: s.acct_mulaid_pay,
        psn_cash_pay: s.psn_cash_pay,
        fulamt_ownpay_amt: s.fulamt_ownpay_amt,
        overlmt_selfpay: s.overlmt_selfpay,
        preselfpay_amt: s.preselfpay_amt,
        act_pay_dedc: s.act_pay_dedc,
        balc_after: s.balc,
        fallback: v
            .reasons
            .iter()
            .map(|r| FallbackView {
                reason: r.text.clone(),
                reason_en: r.text_en.clone(),
                amount: r.amount,
            })
            .collect(),
        discrepancies: v.discrepancies.clone(),
        estimate: s.estimate,
    });
    let notice = match v.state {
        CheckoutState::OfflineQueued => Some(
            "医保中心暂不可达：已按离线方式收费，医保结算已排队，网络恢复后自动补传。".to_string(),
        ),
        CheckoutState::Refunded => Some(format!(
            "已退费（撤销结算号 {}）",
            v.refund_setl_id.clone().unwrap_or_default()
        )),
        CheckoutState::Settling => {
            Some("结算结果未知：正在等待冲正，完成前不能再结算或收款。".to_string())
        }
        CheckoutState::Refunding => {
            Some("退费结果未知：正在等待冲正，完成前不能再退费。".to_string())
        }
        CheckoutState::Held => Some(
            "中心结算结果与预结算或本院目录不符：未收款，需主管核对后接受，或退费。".to_string(),
        ),
        _ => None,
    };
    CheckoutView {
        stage: stage_of(v.stage),
        person,
        lines: v
            .lines
            .iter()
            .map(|l| BillLineView {
                code: l.code.clone().unwrap_or_default(),
                name: l.name.clone(),
                category_label: billing::fee_category_name(&l.med_chrgitm_type).into(),
                class_label: l.class.clone(),
                cnt: Qty::parse(&l.cnt).unwrap_or(Qty(0)),
                pric: money::Price::parse(&l.pric).unwrap_or(money::Price(0)),
                amount: l.amount,
            })
            .collect(),
        total: v.total,
        acct_used: v.acct_used,
        split,
        setl_id: v.setl_id,
        due: v.due,
        payments: v
            .payments
            .iter()
            .filter(|p| {
                matches!(
                    p.payment.channel,
                    ledger::PaymentChannel::Cash | ledger::PaymentChannel::Card
                )
            })
            .map(|p| PaymentView {
                channel: p.payment.channel.name_zh().into(),
                channel_code: p.payment.channel.as_str().into(),
                amount: p.payment.amount,
                given: p.payment.given,
                change: p.payment.change,
                reference: p.payment.reference.clone(),
            })
            .collect(),
        queue_item: v.outbox_id,
        notice,
    }
}

/// The current checkout id, starting one when there is none.
async fn current(state: &AppState, op: &checkout::Operator) -> AppResult<String> {
    let mut cur = state.current.lock().await;
    if let Some(id) = cur.clone() {
        return Ok(id);
    }
    let v = state.engine.start(op).await.map_err(checkout_error)?;
    *cur = Some(v.id.clone());
    state.arm_scanner(false);
    Ok(v.id)
}

async fn show(state: &AppState, id: &str) -> AppResult<CheckoutView> {
    let v = state.engine.view(id).await.map_err(checkout_error)?;
    Ok(to_dto(v, state.config().mask_patient_name))
}

#[tauri::command]
pub async fn checkout_view(state: State<'_, AppState>) -> AppResult<CheckoutView> {
    require_session(&state).await?;
    let id = state.current.lock().await.clone();
    match id {
        Some(id) => show(&state, &id).await,
        None => Ok(idle_view()),
    }
}

#[tauri::command]
pub async fn checkout_resolve_qr(
    state: State<'_, AppState>,
    text: String,
) -> AppResult<CheckoutView> {
    resolve_qr(&state, text).await
}

/// A USB scanner's code, from any screen: resolved in Rust as a camera code is, the
/// outcome told to the window as an event (the checkout screen may not be on show;
/// a template ref dropped such scans).
#[tauri::command]
pub async fn checkout_scanned(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    text: String,
) -> AppResult<()> {
    require_session(&state).await?;
    use tauri::Emitter;
    match resolve_qr(&state, text).await {
        Ok(v) => {
            let _ = app.emit("checkout://view", v);
        }
        Err(e) => {
            let _ = app.emit("checkout://error", e);
        }
    }
    Ok(())
}

/// A code from the camera or a scanner: resolve it for the open (or a new) checkout.
pub(crate) async fn resolve_qr(state: &AppState, text: String) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(state).await?);
    let id = current(state, &op).await?;
    if let Err(e) = state.engine.resolve_qr(&op, &id, &text).await {
        // Nothing was resolved: the counter waits for the (next) code again.
        if state
            .engine
            .view(&id)
            .await
            .map(|v| v.person.is_none())
            .unwrap_or(false)
        {
            state.arm_scanner(true);
        }
        return Err(checkout_error(e));
    }
    show(state, &id).await
}

#[tauri::command]
pub async fn checkout_resolve_id(
    state: State<'_, AppState>,
    cert_no: String,
    name: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(&state).await?);
    let id = current(&state, &op).await?;
    state
        .engine
        .resolve_id(&op, &id, &cert_no, &name)
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

#[tauri::command]
pub async fn catalog_search(
    state: State<'_, AppState>,
    query: String,
) -> AppResult<Vec<CatalogItemView>> {
    require_session(&state).await?;
    Ok(state
        .engine
        .cfg
        .catalog
        .search(&query, 12)
        .into_iter()
        .map(|i| CatalogItemView {
            code: i.code.clone(),
            name: i.name.clone(),
            spec: i.spec.clone(),
            category_label: billing::fee_category_name(&i.med_chrgitm_type).into(),
            class_label: i.chrgitm_lv.label_zh().into(),
            pric: i.pric,
        })
        .collect())
}

async fn edit_lines(
    state: &AppState,
    f: impl FnOnce(&mut Vec<billing::BillLine>) -> AppResult<()>,
) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(state).await?);
    let id = current(state, &op).await?;
    let mut lines = state.engine.lines(&id).await.map_err(checkout_error)?;
    f(&mut lines)?;
    state
        .engine
        .set_lines(&op, &id, lines)
        .await
        .map_err(checkout_error)?;
    show(state, &id).await
}

fn qty(cnt: &str) -> AppResult<Qty> {
    let q = Qty::parse(cnt.trim()).map_err(|_| {
        AppError::validation(format!("数量「{cnt}」不是有效的数字（最多4位小数）。"))
    })?;
    if q.0 <= 0 {
        return Err(AppError::validation("数量必须大于 0。"));
    }
    Ok(q)
}

/// Change one line of the bill.
async fn edit_line(
    state: &AppState,
    index: usize,
    f: impl FnOnce(&mut billing::BillLine) + Send,
) -> AppResult<CheckoutView> {
    edit_lines(state, move |lines| {
        let l = lines
            .get_mut(index)
            .ok_or_else(|| AppError::validation("没有这一行。"))?;
        f(l);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn checkout_add_line(
    state: State<'_, AppState>,
    code: String,
    cnt: String,
) -> AppResult<CheckoutView> {
    let item = state
        .engine
        .cfg
        .catalog
        .get(&code)
        .cloned()
        .ok_or_else(|| AppError::validation(format!("目录中没有编码 {code}。")))?;
    let q = qty(&cnt)?;
    edit_lines(&state, move |lines| {
        if let Some(l) = lines
            .iter_mut()
            .find(|l| l.med_list_codg.as_deref() == Some(code.as_str()))
        {
            l.cnt = Qty(l.cnt.0 + q.0);
        } else {
            lines.push(item.line(q));
        }
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn checkout_set_qty(
    state: State<'_, AppState>,
    index: usize,
    cnt: String,
) -> AppResult<CheckoutView> {
    let q = qty(&cnt)?;
    edit_line(&state, index, move |l| l.cnt = q).await
}

#[tauri::command]
pub async fn checkout_remove_line(
    state: State<'_, AppState>,
    index: usize,
) -> AppResult<CheckoutView> {
    edit_lines(&state, move |lines| {
        if index >= lines.len() {
            return Err(AppError::validation("没有这一行。"));
        }
        lines.remove(index);
        Ok(())
    })
    .await
}

#[tauri::command]
pub async fn checkout_presettle(
    state: State<'_, AppState>,
    acct_used: bool,
) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(&state).await?);
    let id = current(&state, &op).await?;
    state
        .engine
        .presettle(&op, &id, acct_used)
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

#[tauri::command]
pub async fn checkout_settle(state: State<'_, AppState>) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(&state).await?);
    let id = current(&state, &op).await?;
    let v = state
        .engine
        .settle(&op, &id)
        .await
        .map_err(checkout_error)?;
    if v.state == CheckoutState::Done {
        crate::printing::after_done(&state, &id).await;
    }
    show(&state, &id).await
}

#[tauri::command]
pub async fn checkout_pay_cash(
    state: State<'_, AppState>,
    given: String,
) -> AppResult<CheckoutView> {
    let given = Fen::parse(given.trim())
        .map_err(|_| AppError::validation("实收金额格式不对（如 100 或 100.50）。"))?;
    pay(&state, checkout::Pay::Cash { given }).await
}

#[tauri::command]
pub async fn checkout_pay_card(
    state: State<'_, AppState>,
    reference: String,
) -> AppResult<CheckoutView> {
    pay(&state, checkout::Pay::Card { reference }).await
}

async fn pay(state: &AppState, p: checkout::Pay) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(state).await?);
    let id = current(state, &op).await?;
    state
        .engine
        .pay(&op, &id, p)
        .await
        .map_err(checkout_error)?;
    crate::printing::after_done(state, &id).await;
    show(state, &id).await
}

/// Offline: collect and queue (the center cannot be reached).
#[tauri::command]
pub async fn checkout_offline(
    state: State<'_, AppState>,
    cert_no: String,
    name: String,
    given: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(&state).await?);
    let id = current(&state, &op).await?;
    let given = Fen::parse(given.trim()).map_err(|_| AppError::validation("实收金额格式不对。"))?;
    state
        .engine
        .offline_collect(&op, &id, &cert_no, &name, checkout::Pay::Cash { given })
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

#[tauri::command]
pub async fn checkout_reset(state: State<'_, AppState>) -> AppResult<CheckoutView> {
    require_session(&state).await?;
    let mut cur = state.current.lock().await;
    if let Some(id) = cur.clone() {
        let v = state.engine.view(&id).await.map_err(checkout_error)?;
        if matches!(
            v.state,
            CheckoutState::Settled
                | CheckoutState::Settling
                | CheckoutState::Held
                | CheckoutState::Refunding
        ) {
            return Err(AppError::new(
                checkout::ErrorCode::Validation,
                "本笔已结算（或结算结果未知），不能直接放弃。",
                "请先收取个人现金部分；结算结果未知时等待自动冲正。",
            ));
        }
    }
    *cur = None;
    state.arm_scanner(true);
    Ok(idle_view())
}

#[tauri::command]
pub async fn checkout_refund(
    state: State<'_, AppState>,
    setl_id: String,
    supervisor_id: String,
    supervisor_password: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(&state).await?);
    let s = state
        .ledger
        .settlement(&setl_id)
        .await
        .map_err(ledger_error)?
        .ok_or_else(|| AppError::validation(format!("没有结算号 {setl_id}。")))?;
    state
        .engine
        .refund(
            &op,
            &s.checkout_id,
            &supervisor_id,
            &supervisor_password,
            "患者退费",
        )
        .await
        .map_err(checkout_error)?;
    crate::printing::after_refund(&state, &s.checkout_id).await;
    show(&state, &s.checkout_id).await
}

#[tauri::command]
pub async fn history_list(state: State<'_, AppState>) -> AppResult<Vec<HistoryItemView>> {
    require_session(&state).await?;
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
            state: if r.mode == CheckoutMode::Adopted {
                "adopted".into()
            } else {
                r.state.as_str().into()
            },
            print_state,
            refundable: checkout::machine::transition(r.state, checkout::Event::RefundSent).is_ok()
                && r.setl_id.is_some(),
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
        state: i.state.as_str().into(),
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

#[tauri::command]
pub async fn queue_list(state: State<'_, AppState>) -> AppResult<Vec<QueueItemView>> {
    require_session(&state).await?;
    queue_items(&state).await
}

#[tauri::command]
pub async fn queue_sync(state: State<'_, AppState>) -> AppResult<Vec<QueueItemView>> {
    let op = op_of(&require_session(&state).await?);
    state
        .engine
        .sync_queue(&op, true)
        .await
        .map_err(checkout_error)?;
    queue_items(&state).await
}

#[tauri::command]
pub async fn queue_retry(state: State<'_, AppState>, id: String) -> AppResult<Vec<QueueItemView>> {
    let op = op_of(&require_session(&state).await?);
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

/// Print a receipt again, marked 补打 (no money moves).
#[tauri::command]
pub async fn history_reprint(state: State<'_, AppState>, setl_id: String) -> AppResult<String> {
    require_session(&state).await?;
    if state
        .ledger
        .receipt_json(&setl_id)
        .await
        .map_err(ledger_error)?
        .is_none()
    {
        // A receipt whose data was never stored (e.g. a crash right after the settlement): build it now.
        let s = state
            .ledger
            .settlement(&setl_id)
            .await
            .map_err(ledger_error)?
            .ok_or_else(|| AppError::validation(format!("没有结算号 {setl_id}。")))?;
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
            checkout::ErrorCode::NoPrinter,
            format!("补打失败：{e}"),
            "请检查打印机后再试；收据 PDF 已保存在数据目录 receipts/ 下。",
        )),
    }
}

/// 日结对账 for a day; amounts counted by the cashier are optional.
#[tauri::command]
pub async fn reconcile_day(
    state: State<'_, AppState>,
    day: String,
    include_refunds: bool,
    float: String,
    cash_counted: String,
    card_terminal: String,
) -> AppResult<crate::dto::ReconcileView> {
    let op = op_of(&require_session(&state).await?);
    let amount = |s: &str, what: &str| -> AppResult<Option<Fen>> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        Fen::parse(s)
            .map(Some)
            .map_err(|_| AppError::validation(format!("{what}格式不对（如 1200 或 1200.50）。")))
    };
    let float = amount(&float, "备用金")?.unwrap_or(Fen::ZERO);
    let r = state
        .engine
        .reconcile_day(
            &op,
            day.trim(),
            include_refunds,
            float,
            amount(&cash_counted, "现金清点")?,
            amount(&card_terminal, "刷卡终端合计")?,
        )
        .await
        .map_err(checkout_error)?;
    let v = crate::dto::ReconcileView {
        day: r.day.clone(),
        center_balanced: r.center_balanced,
        groups: r
            .groups
            .iter()
            .map(|g| crate::dto::ReconcileGroupView {
                insutype: g.group.insutype.clone(),
                clr_type: g.group.clr_type.clone(),
                setl_optins: g.group.setl_optins.clone(),
                count: g.group.count,
                medfee_sumamt: g.group.medfee_sumamt,
                fund_pay_sumamt: g.group.fund_pay_sumamt,
                acct_pay: g.group.acct_pay,
                balanced: g.balanced,
                center_says: g.stmt_rslt_dscr.clone(),
                differences: g.difference_lines(),
            })
            .collect(),
        settlements: r.counts.settlements,
        refunds: r.counts.refunds,
        medfee_sumamt: r.counts.medfee_sumamt,
        fund_pay_sumamt: r.counts.fund_pay_sumamt,
        acct_pay: r.counts.acct_pay,
        psn_cash_pay: r.counts.psn_cash_pay,
        cash_expected: r.drawer.cash_expected,
        cash_counted: r.drawer.cash_counted,
        cash_variance: r.drawer.cash_variance,
        card_expected: r.drawer.card_expected,
        card_terminal: r.drawer.card_terminal,
        card_variance: r.drawer.card_variance,
        queued: r.queued as u32,
        open_adjustments: r
            .open_adjustments
            .iter()
            .map(|a| a.reason.clone())
            .collect(),
    };
    *state.last_reconcile.lock().await = Some(r);
    Ok(v)
}

/// The end-of-day result just shown, as a CSV file for finance under
/// `<data dir>/reports/`; returns the file's path.
#[tauri::command]
pub async fn reconcile_export(state: State<'_, AppState>) -> AppResult<String> {
    let s = require_session(&state).await?;
    let Some(r) = state.last_reconcile.lock().await.clone() else {
        return Err(AppError::new(
            checkout::ErrorCode::Validation,
            "还没有对账结果可以导出。",
            "请先按「对账」，再导出。",
        ));
    };
    let now = state.now();
    let text = r.to_csv(
        &state.config().fixmedins_name,
        &format!("{}（{}）", s.name, s.operator_id),
        &now.format("%Y-%m-%d %H:%M:%S").to_string(),
    );
    let path = crate::reports::write(
        &state.data_dir,
        &r.day,
        &text,
        &now.format("%H%M%S").to_string(),
    )
    .map_err(AppError::storage)?;
    tracing::info!(path = %path.display(), day = %r.day, "end-of-day report written");
    Ok(path.display().to_string())
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

#[tauri::command]
pub async fn checkout_set_price(
    state: State<'_, AppState>,
    index: usize,
    pric: String,
) -> AppResult<CheckoutView> {
    let p = money::Price::parse(pric.trim()).map_err(|_| {
        AppError::validation(format!("单价「{pric}」不是有效的金额（最多6位小数）。"))
    })?;
    if p.0 < 0 {
        return Err(AppError::validation("单价不能为负。"));
    }
    edit_line(&state, index, move |l| l.pric = p).await
}

/// Lines from a bill file (the `lines` of the `yibao split` format), added to the bill.
#[tauri::command]
pub async fn checkout_import_bill(
    state: State<'_, AppState>,
    json: String,
) -> AppResult<CheckoutView> {
    let v: serde_json::Value = serde_json::from_str(&json)
        .map_err(|e| AppError::validation(format!("账单文件不是有效的 JSON：{e}")))?;
    let raw = v
        .get("lines")
        .and_then(|l| l.as_array())
        .ok_or_else(|| AppError::validation("账单文件中没有 lines 列表。"))?;
    let mut parsed = Vec::new();
    for (i, l) in raw.iter().enumerate() {
        let mut line = billing::parse_line(i, l)
            .map_err(|e| AppError::validation(format!("账单第 {} 行有误：{e}", i + 1)))?;
        if line.med_list_codg.is_none() {
            line.med_list_codg = state
                .engine
                .cfg
                .catalog
                .items
                .iter()
                .find(|it| it.name == line.name)
                .map(|it| it.code.clone());
        }
        parsed.push(line);
    }
    edit_lines(&state, move |lines| {
        lines.extend(parsed);
        Ok(())
    })
    .await
}

/// Partial refund: cancel the whole settlement (supervisor) and re-settle the
/// lines the patient keeps as a new checkout, which becomes the current one
/// (its cash part is collected as usual).
/// Refuse to put another checkout on the counter while a patient is in progress there.
async fn ensure_counter_free(
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
        checkout::ErrorCode::Validation,
        "收费台上还有未完成的患者。",
        format!("请先完成或取消当前患者，{then}。"),
    ))
}

/// Put a checkout that was left unfinished (the patient's part not yet collected after
/// a crash, or by a cashier who has gone) back on the counter, to finish it.
#[tauri::command]
pub async fn history_resume(
    state: State<'_, AppState>,
    checkout_id: String,
) -> AppResult<CheckoutView> {
    require_session(&state).await?;
    let mut cur = state.current.lock().await;
    if cur.as_deref() != Some(checkout_id.as_str()) {
        ensure_counter_free(&state, &cur, "再继续这一笔").await?;
    }
    let v = state
        .engine
        .view(&checkout_id)
        .await
        .map_err(checkout_error)?;
    if !matches!(
        v.state,
        CheckoutState::Settled | CheckoutState::Settling | CheckoutState::Held
    ) {
        return Err(AppError::validation("这一笔不需要继续收款。"));
    }
    *cur = Some(checkout_id.clone());
    state.arm_scanner(false);
    show(&state, &checkout_id).await
}

#[tauri::command]
pub async fn checkout_partial_refund(
    state: State<'_, AppState>,
    setl_id: String,
    keep: Vec<usize>,
    supervisor_id: String,
    supervisor_password: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require_session(&state).await?);
    let s = state
        .ledger
        .settlement(&setl_id)
        .await
        .map_err(ledger_error)?
        .ok_or_else(|| AppError::validation(format!("没有结算号 {setl_id}。")))?;
    let mut cur = state.current.lock().await;
    ensure_counter_free(&state, &cur, "再办理部分退费").await?;
    let v = state
        .engine
        .partial_refund(
            &op,
            &s.checkout_id,
            &keep,
            &supervisor_id,
            &supervisor_password,
        )
        .await
        .map_err(checkout_error)?;
    crate::printing::after_refund(&state, &s.checkout_id).await;
    *cur = Some(v.id.clone());
    state.arm_scanner(false);
    drop(cur);
    if v.state == CheckoutState::Done {
        crate::printing::after_done(&state, &v.id).await;
    }
    show(&state, &v.id).await
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
#[tauri::command]
pub async fn adjustments_list(
    state: State<'_, AppState>,
) -> AppResult<Vec<crate::dto::AdjustmentView>> {
    require_session(&state).await?;
    adjustments(&state).await
}

/// The cashier collected (or gave back) the difference in cash.
#[tauri::command]
pub async fn adjustment_settle(
    state: State<'_, AppState>,
    id: i64,
) -> AppResult<Vec<crate::dto::AdjustmentView>> {
    let op = op_of(&require_session(&state).await?);
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
