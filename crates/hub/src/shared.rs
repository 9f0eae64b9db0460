//! What is the institution's, not one counter's: cashier accounts (a cashier signs in
//! at any counter; a changed password or a lock reaches every counter), the departments
//! and doctors dictionaries, the catalogue mapping, and shared settings. The hub's
//! administrator puts items (`PUT /v1/shared`); every counter pulls what changed since
//! the version it last applied (`GET /v1/shared?since=N`) and caches it in its ledger,
//! so it keeps working with the hub down.
//!
//! Each item has a key within its kind and a version from one sequence: a newer put
//! of the same key replaces it, and a counter applying items in version order ends
//! where the hub is.
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::postgres::PgPool;
use sqlx::Row;

use crate::server::{bearer, db_error, refuse};

/// An institution's account: the hub keeps only the argon2id hash (made by the
/// administrator's `yibao hub account`), which every counter verifies against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// `cashier`, `supervisor`, `finance`, `admin`.
    pub role: String,
    pub password_hash: String,
    /// false: locked at the institution (no counter signs it in).
    pub active: bool,
}

/// The settings a hub may set for every counter (others stay the counter's own).
pub const SHARED_SETTINGS: &[&str] = &["fixmedins_name", "mask_patient_name", "receipt_layout"];

/// One shared item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Shared {
    Account(Account),
    Department(ledger::Department),
    Doctor(ledger::Doctor),
    Mapping(ledger::HospItem),
    Setting { key: String, value: String },
}

impl Shared {
    fn kind(&self) -> &'static str {
        match self {
            Shared::Account(_) => "account",
            Shared::Department(_) => "department",
            Shared::Doctor(_) => "doctor",
            Shared::Mapping(_) => "mapping",
            Shared::Setting { .. } => "setting",
        }
    }

    fn key(&self) -> &str {
        match self {
            Shared::Account(a) => &a.id,
            Shared::Department(d) => &d.code,
            Shared::Doctor(d) => &d.code,
            Shared::Mapping(m) => &m.hosp_code,
            Shared::Setting { key, .. } => key,
        }
    }

    /// Why the hub refuses it (None: taken). Counters check again when applying.
    fn problem(&self) -> Option<String> {
        match self {
            Shared::Account(a) => {
                if ledger::Role::parse(&a.role).is_err() {
                    return Some(format!("账户 {} 的角色 {} 不存在", a.id, a.role));
                }
                if !a.password_hash.starts_with("$argon2") {
                    return Some(format!("账户 {} 的密码只能以 argon2 哈希下发", a.id));
                }
                (a.name.trim().is_empty()).then(|| format!("账户 {} 没有姓名", a.id))
            }
            Shared::Department(d) => (d.code.trim().is_empty() || d.name.trim().is_empty())
                .then(|| "科室缺少编码或名称".to_string()),
            Shared::Doctor(d) => (d.code.trim().is_empty() || d.dept_code.trim().is_empty())
                .then(|| "医生缺少编码或科室".to_string()),
            Shared::Mapping(m) => (m.hosp_code.trim().is_empty()
                || m.med_list_codg.trim().is_empty()
                || m.hosp_code == m.med_list_codg)
                .then(|| format!("对照「{}」的本院编码或医保编码不对", m.name)),
            Shared::Setting { key, .. } => (!SHARED_SETTINGS.contains(&key.as_str()))
                .then(|| format!("设置 {key} 不能由医院统一下发")),
        }
    }
}

/// An item with the version it was put at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned {
    pub version: i64,
    #[serde(flatten)]
    pub item: Shared,
}

pub(crate) const SCHEMA: &[&str] = &[
    "CREATE SEQUENCE IF NOT EXISTS shared_version",
    "CREATE TABLE IF NOT EXISTS shared_items (
        kind        TEXT NOT NULL,
        item_key    TEXT NOT NULL,
        body        TEXT NOT NULL,
        version     BIGINT NOT NULL,
        updated_at  TIMESTAMP NOT NULL,
        PRIMARY KEY (kind, item_key)
    )",
    "CREATE INDEX IF NOT EXISTS shared_items_version ON shared_items (version)",
];

struct St {
    pool: PgPool,
    admin_token: String,
}

/// The shared items' routes (merged into the hub's router).
pub(crate) fn routes(pool: PgPool, admin_token: String) -> Router {
    Router::new()
        .route("/v1/shared", get(list).put(put))
        .with_state(Arc::new(St { pool, admin_token }))
}

fn is_admin(st: &St, h: &HeaderMap) -> bool {
    !st.admin_token.is_empty() && bearer(h) == st.admin_token
}

/// The enrolled counter a key names, if it is that counter's key.
pub(crate) async fn counter_for_key(
    pool: &PgPool,
    key: &str,
) -> Result<Option<String>, sqlx::Error> {
    let Some((counter, _)) = key.split_once('.') else {
        return Ok(None);
    };
    let stored: Option<String> =
        sqlx::query_scalar("SELECT key_hash FROM counters WHERE counter_id = $1")
            .bind(counter)
            .fetch_optional(pool)
            .await?;
    Ok(stored
        .filter(|h| *h == nhsa::sm::sm3_hex(key.as_bytes()))
        .map(|_| counter.to_string()))
}

#[derive(Deserialize)]
struct PutBody {
    items: Vec<Shared>,
}

/// The administrator puts items, all or none.
async fn put(State(st): State<Arc<St>>, h: HeaderMap, Json(b): Json<PutBody>) -> Response {
    if !is_admin(&st, &h) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "not_admin",
            "下发账户、字典和设置需要管理员令牌",
        );
    }
    if let Some(p) = b.items.iter().find_map(Shared::problem) {
        return refuse(StatusCode::BAD_REQUEST, "bad_item", p);
    }
    let r: Result<i64, sqlx::Error> = async {
        let mut tx = st.pool.begin().await?;
        let mut last = 0;
        for it in &b.items {
            let body = serde_json::to_string(it).unwrap_or_default();
            last = sqlx::query_scalar(
                "INSERT INTO shared_items (kind, item_key, body, version, updated_at)
                 VALUES ($1, $2, $3, nextval('shared_version'), now())
                 ON CONFLICT (kind, item_key) DO UPDATE SET body = excluded.body,
                    version = excluded.version, updated_at = excluded.updated_at
                 RETURNING version",
            )
            .bind(it.kind())
            .bind(it.key())
            .bind(body)
            .fetch_one(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(last)
    }
    .await;
    match r {
        Ok(v) => Json(json!({"version": v, "items": b.items.len()})).into_response(),
        Err(e) => db_error(e),
    }
}

#[derive(Deserialize)]
struct Since {
    #[serde(default)]
    since: i64,
}

/// What changed after `since`, in version order (a counter's key or the administrator).
async fn list(State(st): State<Arc<St>>, h: HeaderMap, Query(q): Query<Since>) -> Response {
    if !is_admin(&st, &h) {
        if let Err(r) = crate::server::counter_of(&st.pool, &h).await {
            return r;
        }
    }
    let rows = match sqlx::query(
        "SELECT body, version FROM shared_items WHERE version > $1 ORDER BY version",
    )
    .bind(q.since)
    .fetch_all(&st.pool)
    .await
    {
        Ok(r) => r,
        Err(e) => return db_error(e),
    };
    let items: Vec<Versioned> = rows
        .iter()
        .filter_map(|r| {
            let item = serde_json::from_str(&r.get::<String, _>(0)).ok()?;
            Some(Versioned {
                version: r.get(1),
                item,
            })
        })
        .collect();
    let version = items.last().map(|i| i.version).unwrap_or(q.since);
    Json(json!({"version": version, "items": items})).into_response()
}

// The counter's side and the administrator's.

/// What a pull applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pulled {
    /// The hub's version this ledger has applied up to.
    pub version: i64,
    pub accounts: usize,
    pub departments: usize,
    pub doctors: usize,
    pub mapping: usize,
    pub settings: usize,
}

/// The version of the hub's shared items this ledger has applied.
const VERSION_SETTING: &str = "hub.shared_version";

/// A setting the hub set for every counter, as the ledger caches it.
pub async fn setting(ledger: &ledger::Ledger, key: &str) -> ledger::Result<Option<String>> {
    ledger.setting(&format!("hub.{key}")).await
}

/// Pull what changed at the hub since this ledger's version and apply it in order; an
/// item the ledger refuses stops the pull there (the version stays before it, so the
/// next pull tries it again) and is the error.
pub async fn pull(ledger: &ledger::Ledger, hub: &str, key: &str) -> anyhow::Result<Pulled> {
    let since: i64 = ledger
        .setting(VERSION_SETTING)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let v = crate::client::answer(
        crate::client::client()
            .get(format!("{}/v1/shared", hub.trim_end_matches('/')))
            .query(&[("since", since)])
            .bearer_auth(key)
            .send()
            .await?,
    )
    .await?;
    let items: Vec<Versioned> = serde_json::from_value(v["items"].clone())?;
    let mut out = Pulled {
        version: since,
        ..Pulled::default()
    };
    let now = chrono::Local::now().naive_local();
    for it in items {
        let r: anyhow::Result<()> = async {
            match &it.item {
                Shared::Account(a) => {
                    let role = ledger::Role::parse(&a.role)?;
                    ledger
                        .put_hub_operator(&a.id, &a.name, role, &a.password_hash, a.active, now)
                        .await?;
                    out.accounts += 1;
                }
                Shared::Department(d) => {
                    ledger
                        .put_departments("hub", std::slice::from_ref(d), now)
                        .await?;
                    out.departments += 1;
                }
                Shared::Doctor(d) => {
                    ledger
                        .put_doctors("hub", std::slice::from_ref(d), now)
                        .await?;
                    out.doctors += 1;
                }
                Shared::Mapping(m) => {
                    ledger
                        .put_hosp_items("hub", std::slice::from_ref(m), now)
                        .await?;
                    out.mapping += 1;
                }
                Shared::Setting { key, value } => {
                    ledger
                        .set_setting("hub", &format!("hub.{key}"), value, now)
                        .await?;
                    out.settings += 1;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ledger
                .set_setting("hub", VERSION_SETTING, &out.version.to_string(), now)
                .await?;
            anyhow::bail!("{} {}: {e:#}", it.item.kind(), it.item.key());
        }
        out.version = it.version;
    }
    if out.version != since {
        ledger
            .set_setting("hub", VERSION_SETTING, &out.version.to_string(), now)
            .await?;
    }
    Ok(out)
}

/// The administrator puts items at the hub: the version they got.
pub async fn put_items(hub: &str, admin_token: &str, items: &[Shared]) -> anyhow::Result<i64> {
    let v = crate::client::answer(
        crate::client::client()
            .put(format!("{}/v1/shared", hub.trim_end_matches('/')))
            .bearer_auth(admin_token)
            .json(&json!({ "items": items }))
            .send()
            .await?,
    )
    .await?;
    Ok(v["version"].as_i64().unwrap_or(0))
}

/// The hub's current item of `kind`/`key`, if any (the administrator's view).
pub async fn get_item(
    hub: &str,
    admin_token: &str,
    kind: &str,
    key: &str,
) -> anyhow::Result<Option<Shared>> {
    let v = crate::client::answer(
        crate::client::client()
            .get(format!("{}/v1/shared", hub.trim_end_matches('/')))
            .query(&[("since", 0)])
            .bearer_auth(admin_token)
            .send()
            .await?,
    )
    .await?;
    let items: Vec<Versioned> = serde_json::from_value(v["items"].clone())?;
    Ok(items
        .into_iter()
        .map(|v| v.item)
        .find(|i| i.kind() == kind && i.key() == key))
}
