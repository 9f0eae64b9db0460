//! Yibao Counter's Tauri shell. It owns windows, commands and events and calls
//! the domain crates; it holds no business rules. API boundary: only this crate
//! knows about IPC; the DTOs in `dto` are the only types the UI sees.

mod commands;
pub mod config;
pub mod dto;
pub mod error;
mod printing;
mod receipts;
mod reports;
mod scanner;
mod state;

use tauri::Manager;

pub use error::{AppError, AppResult};
use state::AppState;

/// Why the counter could not start (e.g. a damaged ledger file): shown in the
/// window instead of the sign-in, with what to do. Nothing is overwritten.
struct StartupFailure(AppError);

#[tauri::command]
async fn app_info(app: tauri::AppHandle) -> AppResult<dto::AppInfo> {
    match app.try_state::<AppState>() {
        Some(state) => Ok(state.info()),
        None => Err(app
            .try_state::<StartupFailure>()
            .map(|f| f.0.clone())
            .unwrap_or_else(|| AppError::system("启动未完成"))),
    }
}

/// Logs go to stderr and to a daily file in `<data dir>/logs/` (kept 90 days) that
/// hospital IT can collect; they carry ids and amounts, never names or ID numbers.
fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_from_env("YIBAO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let dir = config::AppConfig::data_dir().join("logs");
    let _ = std::fs::create_dir_all(&dir);
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("yibao-counter")
        .filename_suffix("log")
        .max_log_files(90)
        .build(&dir)
        .map_err(|e| eprintln!("log file not available ({e}); logging to stderr only"))
        .ok();
    tracing_subscriber::registry()
        .with(filter)
        .with(tracing_subscriber::fmt::layer())
        .with(file.map(|f| {
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(f)
        }))
        .init();
}

pub fn run() {
    init_logging();
    tauri::Builder::default()
        .setup(|app| {
            match tauri::async_runtime::block_on(AppState::start()) {
                Ok(state) => {
                    app.manage(state);
                    commands::session::forward_events(app.handle().clone());
                    scanner::start(app.handle().clone());
                }
                Err(e) => {
                    tracing::error!("start-up failed: {e:#}");
                    app.manage(StartupFailure(AppError::new(
                        checkout::ErrorCode::Storage,
                        format!("收银台无法启动：{e:#}"),
                        "本机账本文件可能已损坏或不是收银台的文件；程序没有改动它。请联系信息科从备份恢复，或检查数据目录（YIBAO_DATA_DIR）。",
                    )));
                }
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            commands::session::session_current,
            commands::session::session_needs_first_supervisor,
            commands::session::session_create_first_supervisor,
            commands::session::session_sign_in,
            commands::session::session_sign_out,
            commands::session::users_list,
            commands::session::users_add,
            commands::checkout::checkout_view,
            commands::checkout::checkout_resolve_qr,
            commands::checkout::checkout_scanned,
            commands::checkout::checkout_resolve_id,
            commands::bill::catalog_search,
            commands::bill::checkout_add_line,
            commands::bill::checkout_set_qty,
            commands::bill::checkout_remove_line,
            commands::bill::checkout_set_price,
            commands::bill::checkout_import_bill,
            commands::checkout::checkout_presettle,
            commands::checkout::checkout_settle,
            commands::checkout::checkout_pay_cash,
            commands::checkout::checkout_pay_card,
            commands::checkout::checkout_offline,
            commands::checkout::checkout_reset,
            commands::checkout::checkout_refund,
            commands::checkout::checkout_partial_refund,
            commands::history::history_list,
            commands::history::history_reprint,
            commands::queue::queue_list,
            commands::queue::queue_sync,
            commands::queue::queue_retry,
            commands::queue::adjustments_list,
            commands::queue::adjustment_settle,
            commands::reconcile::reconcile_day,
            commands::reconcile::reconcile_export,
            commands::history::history_resume,
            commands::settings::settings_get,
            commands::settings::settings_save,
            commands::settings::settings_print_test_page,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while building Yibao Counter")
        .run(|app, event| {
            // A clean exit leaves everything in the main ledger file (a copy of it alone
            // is a complete backup).
            if let tauri::RunEvent::Exit = event {
                if let Some(st) = app.try_state::<state::AppState>() {
                    let ledger = st.ledger.clone();
                    tauri::async_runtime::block_on(async move { ledger.close().await });
                }
            }
        });
}
