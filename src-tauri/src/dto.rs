//! The types the UI sees. Exported to `ui/src/bindings/` by ts-rs when
//! `cargo test -p yibao-app` runs; CI fails when the committed copies are stale.

use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub center_url: String,
    pub center_is_demo: bool,
    pub fixmedins_name: String,
    pub data_dir: String,
}

#[derive(Debug, Clone, Copy, Serialize, TS, PartialEq, Eq)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Cashier,
    Supervisor,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct SessionInfo {
    pub operator_id: String,
    pub name: String,
    pub role: Role,
}
