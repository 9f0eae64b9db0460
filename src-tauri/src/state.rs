//! The app's state: configuration, the ledger, the center (built-in simulator
//! when none is configured) and the signed-in operator.

use std::path::PathBuf;

use tokio::sync::Mutex;

use crate::config::AppConfig;
use crate::dto::{AppInfo, SessionInfo};

pub struct AppState {
    pub config: AppConfig,
    pub data_dir: PathBuf,
    /// The center's base URL actually in use.
    pub center_url: String,
    pub center_is_demo: bool,
    pub ledger: ledger::Ledger,
    pub session: Mutex<Option<SessionInfo>>,
}

impl AppState {
    pub async fn start() -> anyhow::Result<AppState> {
        let data_dir = AppConfig::data_dir();
        std::fs::create_dir_all(&data_dir)?;
        let config = AppConfig::load(&data_dir)?;
        let (center_url, center_is_demo) = match &config.center_url {
            Some(url) => (url.clone(), false),
            None => (start_builtin_center(&data_dir).await?, true),
        };
        let ledger = ledger::Ledger::open(&data_dir.join("ledger.db"), &data_dir.join("ledger.key"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tracing::info!(%center_url, demo = center_is_demo, data_dir = %data_dir.display(), "started");
        Ok(AppState {
            config,
            data_dir,
            center_url,
            center_is_demo,
            ledger,
            session: Mutex::new(None),
        })
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            center_url: self.center_url.clone(),
            center_is_demo: self.center_is_demo,
            fixmedins_name: self.config.fixmedins_name.clone(),
            data_dir: self.data_dir.display().to_string(),
        }
    }
}

/// The simulated center, in-process on a loopback port, with its own database.
/// The app talks to it over real HTTP exactly as to a real center.
async fn start_builtin_center(data_dir: &std::path::Path) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let db = data_dir.join("center-sim.db");
    tauri::async_runtime::spawn(async move {
        if let Err(e) = center_sim::serve(listener, &db, center_sim::SimOptions::default()).await {
            tracing::error!("built-in simulated center stopped: {e:#}");
        }
    });
    Ok(url)
}
