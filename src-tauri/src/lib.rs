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
pub(crate) struct StartupFailure(pub(crate) AppError);

/// `ctx_ty!(state)`: the type of a command's context argument.
macro_rules! ctx_ty {
    (state) => { tauri::State<'_, crate::state::AppState> };
    (app) => { tauri::AppHandle };
}

/// Expands the declaration in `contract.rs`: one `#[tauri::command]` adapter per line
/// (its arguments' names and types are the declaration's; the call checks them against
/// the screen module's function), the handler list, the command names, and the
/// TypeScript client.
macro_rules! contract {
    ($( $m:ident :: $name:ident ( $($ctx:ident),* ; $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty ; )*) => {
        $(
            #[tauri::command]
            async fn $name($($ctx: ctx_ty!($ctx),)* $($arg: $ty),*) -> crate::error::AppResult<$ret> {
                crate::commands::$m::$name($($ctx,)* $($arg),*).await
            }
        )*

        pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }

        /// Every command's name, in declaration order.
        #[allow(dead_code)]
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// The TypeScript client of the whole contract.
        #[cfg(test)]
        pub(crate) fn typescript() -> String {
            let commands = vec![$(
                crate::contract_ts::Command {
                    name: stringify!($name),
                    args: vec![$(crate::contract_ts::Arg::of::<$ty>(stringify!($arg))),*],
                    ret: crate::contract_ts::Arg::of::<$ret>(""),
                }
            ),*];
            crate::contract_ts::render(&commands)
        }
    };
}

mod contract;
#[cfg(test)]
mod contract_ts;

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

/// The catalogue's daily sync: checked hourly, run as whoever is signed in (the rule
/// of when is the engine's, `catalog_sync_due`). A failure leaves the last version.
fn daily_catalogue_sync(state: &AppState) {
    let counter = state.counter.clone();
    let engine = state.engine.clone();
    let dir = state.data_dir.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            if counter.signed().await.is_some() && engine.catalog_sync_due().await.unwrap_or(false)
            {
                match counter.sync_catalog(&dir).await {
                    Ok(r) => {
                        tracing::info!(ver = %r.ver, downloaded = r.downloaded, changed = r.changed, "catalogue synced")
                    }
                    Err(e) => tracing::warn!("catalogue sync: {}", e.message),
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(3540)).await;
        }
    });
}

/// Push the ledger's facts to the institution's hub every 30 s when one is configured,
/// and pull what the institution shares (accounts, dictionaries, the mapping,
/// settings) into the ledger, where it stays for offline work. The hub is never in a
/// checkout's path: a hub that is down only leaves facts pending and the cache as it was.
fn sync_with_hub(app: tauri::AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let cfg = state.config();
    if cfg.hub_url.is_empty() || cfg.hub_key.is_empty() {
        return;
    }
    let ledger = state.ledger.clone();
    tauri::async_runtime::spawn(async move {
        loop {
            match hub::shared::pull(&ledger, &cfg.hub_url, &cfg.hub_key).await {
                Ok(p) if p.accounts + p.departments + p.doctors + p.mapping + p.settings > 0 => {
                    tracing::info!(?p, "pulled from the hub")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("hub pull: {e:#}"),
            }
            if let Some(state) = app.try_state::<AppState>() {
                apply_hub_settings(&state).await;
                // A lock from the hub reaches the cashier signed in here now.
                if let Err(e) = state.counter.end_if_locked().await {
                    tracing::warn!("account check: {}", e.message);
                }
            }
            match hub::client::push(&ledger, &cfg.hub_url, &cfg.hub_key).await {
                Ok(r) if r.pending > 0 => {
                    tracing::info!(pushed = r.pushed, pending = r.pending, "hub push")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!("hub push: {e:#}"),
            }
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        }
    });
}

/// The settings the institution set at the hub (as the ledger caches them) over the
/// counter's own.
async fn apply_hub_settings(state: &AppState) {
    let mut c = state.config();
    let before = serde_json::to_value(&c).ok();
    for key in hub::shared::SHARED_SETTINGS {
        let Ok(Some(v)) = hub::shared::setting(&state.ledger, key).await else {
            continue;
        };
        match *key {
            "fixmedins_name" if !v.trim().is_empty() => c.fixmedins_name = v,
            "mask_patient_name" => c.mask_patient_name = matches!(v.as_str(), "true" | "1"),
            "receipt_layout" if matches!(v.as_str(), "roll80" | "a5") => c.receipt_layout = v,
            _ => {}
        }
    }
    if serde_json::to_value(&c).ok() != before {
        tracing::info!("settings from the hub applied");
        state.set_config(c);
    }
}

pub fn run() {
    init_logging();
    tauri::Builder::default()
        .setup(|app| {
            match tauri::async_runtime::block_on(AppState::start()) {
                Ok(state) => {
                    daily_catalogue_sync(&state);
                    app.manage(state);
                    sync_with_hub(app.handle().clone());
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
        .invoke_handler(contract::handler())
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
