//! Checkout screen, the visit: the HIS's pending orders, or in clinic mode the doctor
//! and diagnoses picked from the dictionaries; 设置 › 科室与医生.

use tauri::State;

use super::*;
use crate::dto::{
    CheckoutView, DepartmentView, DiagnosisView, DictView, DoctorView, PendingBillView,
};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

async fn dict_view(state: &AppState) -> AppResult<DictView> {
    let departments = state.ledger.departments().await.map_err(ledger_error)?;
    let name_of = |code: &str| {
        departments
            .iter()
            .find(|d| d.code == code)
            .map(|d| d.name.clone())
            .unwrap_or_default()
    };
    let doctors = state
        .ledger
        .doctors()
        .await
        .map_err(ledger_error)?
        .into_iter()
        .filter(|d| d.active)
        .map(|d| DoctorView {
            dept_name: name_of(&d.dept_code),
            code: d.code,
            name: d.name,
            dept_code: d.dept_code,
        })
        .collect();
    Ok(DictView {
        departments: departments
            .iter()
            .map(|d| DepartmentView {
                code: d.code.clone(),
                name: d.name.clone(),
                caty: d.caty.clone(),
            })
            .collect(),
        doctors,
        his: state.engine.cfg.his.kind().into(),
    })
}

/// The departments and doctors (and which HIS is in use).
pub async fn dict_list(state: State<'_, AppState>) -> AppResult<DictView> {
    require(&state, ledger::Action::Checkout).await?;
    dict_view(&state).await
}

/// Import departments or doctors from CSV (a supervisor's or admin's setting).
pub async fn dict_import(
    state: State<'_, AppState>,
    kind: String,
    csv: String,
) -> AppResult<DictView> {
    let kind = ::checkout::DictKind::parse(&kind)
        .ok_or_else(|| AppError::validation("字典类型应为 departments 或 doctors。"))?;
    state
        .counter
        .import_dictionary(kind, &csv)
        .await
        .map_err(checkout_error)?;
    dict_view(&state).await
}

/// Diagnoses of the national dictionary by code, name or 拼音首字母.
pub async fn diagnosis_search(
    state: State<'_, AppState>,
    query: String,
) -> AppResult<Vec<DiagnosisView>> {
    require(&state, ledger::Action::Checkout).await?;
    Ok(nhsa::dict::find_diagnoses(&query, 10)
        .into_iter()
        .map(|(code, name)| DiagnosisView {
            code: code.into(),
            name: name.into(),
        })
        .collect())
}

/// Clinic mode: the visit from the doctor and the diagnoses (the first is the main one),
/// under a 慢特病 registration when one is chosen.
pub async fn checkout_set_clinic_visit(
    state: State<'_, AppState>,
    doctor: String,
    diagnoses: Vec<DiagnosisView>,
    chronic: Option<String>,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    let picks: Vec<::checkout::DiagnosisPick> = diagnoses
        .into_iter()
        .map(|d| ::checkout::DiagnosisPick {
            code: d.code,
            name: d.name,
        })
        .collect();
    state
        .engine
        .set_clinic_visit(
            &op,
            &id,
            &doctor,
            &picks,
            chronic.as_deref().filter(|c| !c.is_empty()),
        )
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

/// The patient's pending orders at the HIS (empty in clinic mode).
pub async fn his_pending(state: State<'_, AppState>) -> AppResult<Vec<PendingBillView>> {
    require(&state, ledger::Action::Checkout).await?;
    let id = current(&state).await?;
    let bills = state
        .engine
        .his_pending(&id)
        .await
        .map_err(checkout_error)?;
    Ok(bills
        .into_iter()
        .map(|b| {
            let lines: Vec<billing::BillLine> = b
                .lines
                .iter()
                .enumerate()
                .filter_map(|(i, l)| billing::parse_line(i, l).ok())
                .collect();
            PendingBillView {
                bill_id: b.bill_id.clone(),
                med_type: b.med_type.clone(),
                dr_name: b.visit.dr_name.clone(),
                dept_name: b.visit.dept_name.clone(),
                diagnoses: b
                    .visit
                    .diseinfo
                    .iter()
                    .map(|d| format!("{} {}", d.diag_code, d.diag_name))
                    .collect(),
                items: lines
                    .iter()
                    .map(|l| format!("{} ×{}", l.name, l.cnt))
                    .collect(),
                total: lines.iter().map(billing::BillLine::amount).sum(),
            }
        })
        .collect())
}

/// Take one of the patient's pending HIS bills as the bill.
pub async fn checkout_take_his_bill(
    state: State<'_, AppState>,
    bill_id: String,
) -> AppResult<CheckoutView> {
    let op = op_of(&require(&state, ledger::Action::Checkout).await?);
    let id = current(&state).await?;
    let bill = state
        .engine
        .his_pending(&id)
        .await
        .map_err(checkout_error)?
        .into_iter()
        .find(|b| b.bill_id == bill_id)
        .ok_or_else(|| AppError::validation("HIS 中已没有这张待缴费账单（可能已在别处缴费）。"))?;
    state
        .engine
        .take_his_bill(&op, &id, &bill)
        .await
        .map_err(checkout_error)?;
    show(&state, &id).await
}

async fn catalog_status_view(
    state: &AppState,
    last: Option<String>,
) -> AppResult<crate::dto::CatalogStatusView> {
    let mut ver = String::new();
    for list in ["1301", "1302", "1305", "1306"] {
        if let Some(v) = state
            .ledger
            .catalog_version(list)
            .await
            .map_err(ledger_error)?
        {
            if v > ver {
                ver = v;
            }
        }
    }
    Ok(crate::dto::CatalogStatusView {
        ver,
        items: state.ledger.catalog_count().await.map_err(ledger_error)? as u32,
        mapped: state
            .ledger
            .hosp_items_count()
            .await
            .map_err(ledger_error)? as u32,
        last,
    })
}

/// The catalogue at this counter: version, items, mapped hospital items.
pub async fn catalog_status(
    state: State<'_, AppState>,
) -> AppResult<crate::dto::CatalogStatusView> {
    require(&state, ledger::Action::Checkout).await?;
    catalog_status_view(&state, None).await
}

/// Sync the catalogue now (the daily sync runs by itself).
pub async fn catalog_sync(state: State<'_, AppState>) -> AppResult<crate::dto::CatalogStatusView> {
    let r = state
        .counter
        .sync_catalog(&state.data_dir)
        .await
        .map_err(checkout_error)?;
    catalog_status_view(
        &state,
        Some(format!(
            "已同步至版本 {}：下载 {} 条，变化 {} 条",
            r.ver, r.downloaded, r.changed
        )),
    )
    .await
}

/// Import the hospital's mapping (目录对照) from CSV (a supervisor's or admin's setting).
pub async fn catalog_map_import(
    state: State<'_, AppState>,
    csv: String,
) -> AppResult<crate::dto::CatalogStatusView> {
    let n = state
        .counter
        .import_mapping(&csv)
        .await
        .map_err(checkout_error)?;
    catalog_status_view(&state, Some(format!("已导入目录对照 {n} 条"))).await
}
