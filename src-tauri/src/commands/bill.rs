//! Checkout screen, the bill: catalogue search and line edits, bill files.

use money::Qty;
use tauri::State;

use super::*;
use crate::dto::{CatalogItemView, CheckoutView};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn catalog_search(
    state: State<'_, AppState>,
    query: String,
) -> AppResult<Vec<CatalogItemView>> {
    require(&state, ledger::Action::Checkout).await?;
    // The synced national catalogue once there is one; the shipped demo one before.
    let synced = state
        .ledger
        .catalog_find(&query, 12)
        .await
        .map_err(ledger_error)?;
    if state.ledger.catalog_count().await.map_err(ledger_error)? > 0 {
        return Ok(synced
            .into_iter()
            .map(|r| CatalogItemView {
                category_label: billing::fee_category_name(&r.med_chrgitm_type).into(),
                class_label: billing::ChargeClass::parse(&r.chrgitm_lv)
                    .map(|c| c.label_zh())
                    .unwrap_or("")
                    .into(),
                pric: r
                    .pric
                    .as_deref()
                    .and_then(|p| money::Price::parse(p).ok())
                    .unwrap_or(money::Price(0)),
                code: r.med_list_codg,
                name: r.name,
                spec: r.spec,
            })
            .collect());
    }
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
    let op = op_of(&require(state, ledger::Action::Checkout).await?);
    let id = current(state).await?;
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

pub async fn checkout_add_line(
    state: State<'_, AppState>,
    code: String,
    cnt: String,
) -> AppResult<CheckoutView> {
    let item = state
        .engine
        .catalog_item(&code)
        .await
        .map_err(checkout_error)?
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

pub async fn checkout_set_qty(
    state: State<'_, AppState>,
    index: usize,
    cnt: String,
) -> AppResult<CheckoutView> {
    let q = qty(&cnt)?;
    edit_line(&state, index, move |l| l.cnt = q).await
}

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
    // A HIS bill carries its visit: checked (before anything is sent) and kept.
    if let Some(visit) = v.get("visit").filter(|x| !x.is_null()) {
        let visit: nhsa::visit::Visit = serde_json::from_value(visit.clone())
            .map_err(|e| AppError::validation(format!("账单的就诊信息（visit）有误：{e}")))?;
        let med_type = v.get("med_type").and_then(|m| m.as_str()).unwrap_or("11");
        let op = op_of(&require(&state, ledger::Action::Checkout).await?);
        let id = current(&state).await?;
        state
            .engine
            .set_visit(&op, &id, med_type, visit)
            .await
            .map_err(checkout_error)?;
    }
    edit_lines(&state, move |lines| {
        lines.extend(parsed);
        Ok(())
    })
    .await
}
