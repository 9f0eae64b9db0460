//! The app's state: configuration, the ledger, the center (built-in simulator
//! when none is configured) and the signed-in operator.

use std::path::PathBuf;

use crate::config::AppConfig;
use crate::dto::AppInfo;

pub struct AppState {
    config: std::sync::RwLock<AppConfig>,
    pub data_dir: PathBuf,
    /// The center's base URL actually in use.
    pub center_url: String,
    pub center_is_demo: bool,
    pub ledger: ledger::Ledger,
    pub engine: checkout::Engine,
    /// The counter session: who is signed in, the patient on the counter, the replay.
    pub counter: checkout::Counter,
    /// The camera scanner thread (restarted when the camera setting changes).
    pub scanner: std::sync::Mutex<Option<scan::Scanner>>,
    /// Codes from the camera are taken only while a cashier is signed in and no patient is open.
    pub scan_armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
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
        let db = data_dir.join("ledger.db");
        let key = ledger::LedgerKey::load_or_create(&ledger::LedgerKey::default_path_for(&db))
            .map_err(|e| anyhow::anyhow!("{}", e.message_zh()))?;
        let ledger = ledger::Ledger::open(&db, &key)
            .await
            .map_err(|e| anyhow::anyhow!("{}（{e}）", e.message_zh()))?;
        tracing::info!(%center_url, demo = center_is_demo, data_dir = %data_dir.display(), "started");
        let counter_no = std::env::var("YIBAO_COUNTER_NO")
            .ok()
            .and_then(|v| v.trim().parse::<u8>().ok())
            .unwrap_or(config.terminal_no);
        let counter_no = match counter_no {
            0 if center_is_demo => Some(1),
            0 => None,
            n => Some(n),
        };
        if let Some(n) = counter_no {
            if ledger.counter_no().await.ok().flatten() != Some(n) {
                ledger
                    .set_counter_no(n)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.message_zh()))?;
            }
        }
        let mut cfg = checkout::EngineConfig::demo(&center_url);
        cfg.institution = nhsa::Institution {
            fixmedins_code: config.fixmedins_code.clone(),
            fixmedins_name: config.fixmedins_name.clone(),
            mdtrtarea_admvs: config.mdtrtarea_admvs.clone(),
        };
        if let Some(f) = &config.center_ca_file {
            cfg.center_ca = Some(
                std::fs::read(f)
                    .map_err(|e| anyhow::anyhow!("医保中心的 CA 证书 {f} 无法读取（{e}）"))?,
            );
        }
        cfg.offline_mode = if config.offline_mode == "self_pay_all" {
            checkout::OfflineMode::SelfPayAll
        } else {
            checkout::OfflineMode::Estimate
        };
        let his_url = match &config.his_url {
            Some(u) => Some(u.clone()),
            None if center_is_demo => Some(start_builtin_his().await?),
            None => None,
        };
        cfg.his = his::His::from_config(his_url.as_deref(), config.his_token.as_deref());
        cfg.gateway = (!config.gateway_paasid.is_empty()).then(|| checkout::Gateway {
            paasid: config.gateway_paasid.clone(),
            passtoken: config.gateway_passtoken.clone(),
        });
        cfg.recer_sys_code = config.recer_sys_code.clone();
        cfg.cainfo = config.cainfo.clone();
        seed_dictionaries(&ledger, &config, center_is_demo).await?;
        let engine =
            checkout::Engine::new(ledger.clone(), cfg).map_err(|e| anyhow::anyhow!(e.message))?;
        Ok(AppState {
            config: std::sync::RwLock::new(config),
            data_dir,
            center_url,
            center_is_demo,
            ledger,
            counter: checkout::Counter::with_replay_every(
                engine.clone(),
                ledger::AuthSource::Window,
                std::time::Duration::from_secs(
                    std::env::var("YIBAO_REPLAY_SECS")
                        .ok()
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .unwrap_or(30)
                        .clamp(1, 3600),
                ),
            ),
            engine,
            scanner: std::sync::Mutex::new(None),
            scan_armed: Default::default(),
        })
    }

    /// Arm or disarm the camera for the next patient.
    pub fn arm_scanner(&self, armed: bool) {
        self.scan_armed
            .store(armed, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn config(&self) -> AppConfig {
        self.config.read().expect("config lock").clone()
    }

    pub fn set_config(&self, c: AppConfig) {
        *self.config.write().expect("config lock") = c;
    }

    /// The local time the business logic is given (the clock is passed in, never read inside).
    pub fn now(&self) -> chrono::NaiveDateTime {
        chrono::Local::now().naive_local()
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            center_url: self.center_url.clone(),
            center_is_demo: self.center_is_demo,
            fixmedins_name: self.config().fixmedins_name,
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

/// The simulated HIS of the demo (pending orders for the demo persons), in-process on
/// a loopback port: the counter talks to it over real HTTP as to a hospital's.
async fn start_builtin_his() -> anyhow::Result<String> {
    let patients = center_sim::persons::DEMO
        .iter()
        .map(|p| his::sim::SimPatient {
            certno: p.certno.into(),
            psn_name: p.name.into(),
            chronic: p.chronic.map(|(c, n)| (c.into(), n.into())),
        })
        .collect();
    let s = his::sim::spawn(his::sim::SimOpts {
        listen: "127.0.0.1:0".into(),
        token: None,
        patients,
    })
    .await?;
    let url = s.url.clone();
    // The demo HIS lives as long as the app.
    std::mem::forget(s);
    Ok(url)
}

/// A new counter's dictionaries: imported from `dict_dir` (the hospital's CSVs), or for
/// the built-in demo center the demo institution's, when the ledger has none yet.
async fn seed_dictionaries(
    ledger: &ledger::Ledger,
    config: &AppConfig,
    demo: bool,
) -> anyhow::Result<()> {
    if !ledger
        .departments()
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message_zh()))?
        .is_empty()
    {
        return Ok(());
    }
    let (depts, doctors) = match &config.dict_dir {
        Some(dir) => {
            let dir = std::path::Path::new(dir);
            let read = |f: &str| {
                std::fs::read_to_string(dir.join(f))
                    .map_err(|e| anyhow::anyhow!("字典 {} 无法读取（{e}）", dir.join(f).display()))
            };
            (read("departments.csv")?, read("doctors.csv")?)
        }
        None if demo => (
            include_str!("../../assets/dict/departments.csv").to_string(),
            include_str!("../../assets/dict/doctors.csv").to_string(),
        ),
        None => return Ok(()),
    };
    checkout::dict::seed(ledger, &depts, &doctors, chrono::Local::now().naive_local())
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message))
}
