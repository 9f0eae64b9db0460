//! Yibao Counter's Tauri shell. It owns windows, commands and events and calls
//! the domain crates; it holds no business rules. API boundary: only this crate
//! knows about IPC; the DTOs in `dto` are the only types the UI sees.

pub mod config;
pub mod dto;
pub mod error;
mod session;
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
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            session::session_current,
            session::session_needs_first_supervisor,
            session::session_create_first_supervisor,
            session::session_sign_in,
            session::session_sign_out,
        ])
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Yibao Counter");
}
