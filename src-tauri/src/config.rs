//! Where the counter keeps its data and which center, camera and printer it uses.
//!
//! Read from `config.json` in the data directory, overridden by environment
//! variables (handy for IT scripts and tests):
//! * `YIBAO_DATA_DIR`   — data directory (default: the OS data dir, e.g. ~/.local/share/yibao-counter)
//! * `YIBAO_CENTER_URL` — the center's base URL; unset = the built-in simulated center (demo)
//! * `YIBAO_CAMERA`     — `device:N`, `dir:/path/to/frames`, or `none`
//! * `YIBAO_REPLAY_SECS` — seconds between passes of the offline queue's replay (default 30)
//! * `YIBAO_PRINTER`    — CUPS printer name
//! * `YIBAO_HUB_URL`, `YIBAO_HUB_KEY` — the institution's hub and this counter's key
//!
//! Pointing at a real center is configuration only: set `center_url` (and the
//! institution fields) and the same HTTP client is used.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, Deserialize, TS, PartialEq)]
#[ts(export)]
#[serde(default)]
pub struct AppConfig {
    pub center_url: Option<String>,
    pub fixmedins_code: String,
    pub fixmedins_name: String,
    pub mdtrtarea_admvs: String,
    pub camera: String,
    pub printer: Option<String>,
    pub mask_patient_name: bool,
    pub offline_mode: String,
    /// `roll80` (80 mm thermal roll) or `a5`.
    pub receipt_layout: String,
    /// `zh-CN` or `en`.
    pub language: String,
    /// This counter's number (1–99) among the institution's counters: two digits of
    /// every msgid, so two counters never send the same msgid (docs/domain.md §10).
    /// 0 = not set: the counter does not call a real center until IT sets it
    /// (`YIBAO_COUNTER_NO` overrides; the built-in demo center uses 1).
    pub terminal_no: u8,
    /// The CA certificate (PEM file) of the center's TLS certificate, when the region
    /// runs its own CA. The certificate is always checked.
    pub center_ca_file: Option<String>,
    /// The hospital's HIS: its API base URL (crates/his/API.md) or the folder it drops
    /// bills into. None: clinic mode (with the built-in demo center, the built-in HIS).
    #[serde(default)]
    pub his_url: Option<String>,
    /// The HIS API's bearer token (kept in config.json on the counter, never in the repo).
    #[serde(default)]
    pub his_token: Option<String>,
    /// A folder with departments.csv and doctors.csv imported when the counter's
    /// dictionaries are empty (first start of a new counter).
    #[serde(default)]
    pub dict_dir: Option<String>,
    /// The regional gateway in front of the center (`x-tif-paasid`, and the passtoken
    /// `x-tif-signature` is made with); empty when the region has none.
    #[serde(default)]
    pub gateway_paasid: String,
    #[serde(default)]
    pub gateway_passtoken: String,
    /// 接收方系统代码 and 交易验证信息 of the envelope, as the region assigns them.
    #[serde(default = "default_recer")]
    pub recer_sys_code: String,
    #[serde(default)]
    pub cainfo: String,
    /// The institution's hub (`yibao hub`) and this counter's key from `yibao hub
    /// enroll`: the ledger's facts are pushed in the background; empty: no hub.
    #[serde(default)]
    pub hub_url: String,
    #[serde(default)]
    pub hub_key: String,
}

fn default_recer() -> String {
    "YBXT".into()
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            center_url: None,
            // The simulated center's demo institution.
            fixmedins_code: "H44030300001".into(),
            fixmedins_name: "深圳市演示人民医院".into(),
            mdtrtarea_admvs: "440300".into(),
            camera: "device:0".into(),
            printer: None,
            mask_patient_name: true,
            offline_mode: "estimate".into(),
            receipt_layout: "roll80".into(),
            language: "zh-CN".into(),
            terminal_no: 0,
            center_ca_file: None,
            his_url: None,
            his_token: None,
            dict_dir: None,
            gateway_paasid: String::new(),
            gateway_passtoken: String::new(),
            recer_sys_code: default_recer(),
            cainfo: String::new(),
            hub_url: String::new(),
            hub_key: String::new(),
        }
    }
}

impl AppConfig {
    pub fn data_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("YIBAO_DATA_DIR") {
            return PathBuf::from(d);
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("yibao-counter")
    }

    pub fn load(dir: &Path) -> anyhow::Result<AppConfig> {
        let path = dir.join("config.json");
        let mut cfg = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AppConfig::default(),
            Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        };
        if let Ok(v) = std::env::var("YIBAO_CENTER_URL") {
            cfg.center_url = (!v.is_empty()).then_some(v);
        }
        if let Ok(v) = std::env::var("YIBAO_CAMERA") {
            cfg.camera = v;
        }
        if let Ok(v) = std::env::var("YIBAO_HIS") {
            cfg.his_url = (!v.is_empty()).then_some(v);
        }
        if let Ok(v) = std::env::var("YIBAO_DICT_DIR") {
            cfg.dict_dir = (!v.is_empty()).then_some(v);
        }
        if let Ok(v) = std::env::var("YIBAO_PRINTER") {
            cfg.printer = Some(v);
        }
        if let Ok(v) = std::env::var("YIBAO_HUB_URL") {
            cfg.hub_url = v;
        }
        if let Ok(v) = std::env::var("YIBAO_HUB_KEY") {
            cfg.hub_key = v;
        }
        Ok(cfg)
    }

    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join("config.json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(tmp, dir.join("config.json"))?;
        Ok(())
    }
}
