//! Yibao Counter's Tauri shell. It owns windows, commands and events and calls
//! the domain crates; it holds no business rules. API boundary: only this crate
//! knows about IPC; the DTOs in `dto` are the only types the UI sees.

pub mod config;
mod counter;
pub mod dto;
pub mod error;
mod printing;
mod receipts;
mod scanner;
mod session;
mod settings;
mod state;

use tauri::Manager;

pub use error::{AppError, AppResult};
use state::AppState;

#[tauri::command]
async fn app_info(state: tauri::State<'_, AppState>) -> AppResult<dto::AppInfo> {
    Ok(state.info())
}

pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("YIBAO_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    tauri::Builder::default()
        .setup(|app| {
            let state = tauri::async_runtime::block_on(AppState::start())
                .map_err(|e| format!("启动失败：{e:#}"))?;
            app.manage(state);
            scanner::start(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            session::session_current,
            session::session_needs_first_supervisor,
            session::session_create_first_supervisor,
            session::session_sign_in,
            session::session_sign_out,
            session::users_list,
            session::users_add,
            counter::checkout_view,
            counter::checkout_resolve_qr,
            counter::checkout_resolve_id,
            counter::catalog_search,
            counter::checkout_add_line,
            counter::checkout_set_qty,
            counter::checkout_remove_line,
            counter::checkout_set_price,
            counter::checkout_import_bill,
            counter::checkout_presettle,
            counter::checkout_settle,
            counter::checkout_pay_cash,
            counter::checkout_pay_card,
            counter::checkout_offline,
            counter::checkout_reset,
            counter::checkout_refund,
            counter::checkout_partial_refund,
            counter::history_list,
            counter::history_reprint,
            counter::queue_list,
            counter::queue_sync,
            counter::queue_retry,
            counter::reconcile_day,
            settings::settings_get,
            settings::settings_save,
            settings::settings_print_test_page,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Yibao Counter");
}
