//! The hub's HTTP API (v1) and its PostgreSQL store.
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::Row;

use crate::Fact;

#[derive(Debug, Clone)]
pub struct HubOptions {
    /// `postgres://…`
    pub database_url: String,
    /// The administrator's token (enrolment, the institution's report).
    pub admin_token: String,
}

struct Hub {
    pool: PgPool,
    admin_token: String,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS counters (
        counter_id  TEXT PRIMARY KEY,
        key_hash    TEXT NOT NULL,
        enrolled_at TIMESTAMP NOT NULL
    )",
    "CREATE TABLE IF NOT EXISTS facts (
        counter_id  TEXT NOT NULL REFERENCES counters(counter_id),
        seq         BIGINT NOT NULL,
        fact_time   TEXT NOT NULL,
        actor       TEXT NOT NULL,
        action      TEXT NOT NULL,
        detail      TEXT NOT NULL,
        prev_hash   TEXT NOT NULL,
        hash        TEXT NOT NULL,
        received_at TIMESTAMP NOT NULL,
        PRIMARY KEY (counter_id, seq)
    )",
    // The money facts, one row per settlement, cancellation or cash/card payment.
    "CREATE TABLE IF NOT EXISTS money_facts (
        counter_id      TEXT NOT NULL,
        seq             BIGINT NOT NULL,
        day             TEXT NOT NULL,
        kind            TEXT NOT NULL,
        setl_id         TEXT NOT NULL,
        actor           TEXT NOT NULL,
        insutype        TEXT NOT NULL,
        clr_type        TEXT NOT NULL,
        clr_optins      TEXT NOT NULL,
        medfee          BIGINT NOT NULL,
        fund            BIGINT NOT NULL,
        acct            BIGINT NOT NULL,
        mulaid          BIGINT NOT NULL,
        cash            BIGINT NOT NULL,
        channel         TEXT NOT NULL,
        amount          BIGINT NOT NULL,
        msgid           TEXT NOT NULL DEFAULT '',
        mdtrt_id        TEXT NOT NULL DEFAULT '',
        psn_no          TEXT NOT NULL DEFAULT '',
        orig_setl_id    TEXT NOT NULL DEFAULT '',
        setl_time       TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (counter_id, seq)
    )",
    "CREATE INDEX IF NOT EXISTS money_facts_day ON money_facts (day)",
];

/// Columns of `money_facts` added after its first release (the institution's 3202 and
/// the trace of a difference): added to an older hub's table at start-up, and filled
/// from the facts' details where those carry them.
const LATER_COLUMNS: &[&str] = &["msgid", "mdtrt_id", "psn_no", "orig_setl_id", "setl_time"];

/// Indexes over the later columns (created once they exist).
const LATER_INDEXES: &[&str] =
    &["CREATE INDEX IF NOT EXISTS money_facts_orig ON money_facts (orig_setl_id)"];

/// Build the hub (connect, create its tables).
pub async fn router(opts: HubOptions) -> anyhow::Result<Router> {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect(&opts.database_url)
        .await?;
    for s in SCHEMA {
        sqlx::query(s).execute(&pool).await?;
    }
    migrate(&pool).await?;
    for s in LATER_INDEXES {
        sqlx::query(s).execute(&pool).await?;
    }
    for s in crate::shared::SCHEMA {
        sqlx::query(s).execute(&pool).await?;
    }
    let shared = crate::shared::routes(pool.clone(), opts.admin_token.clone());
    let hub = Arc::new(Hub {
        pool,
        admin_token: opts.admin_token,
    });
    Ok(Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/enroll", post(enroll))
        .route("/v1/high-water", get(high_water))
        .route("/v1/facts", post(push))
        .route("/v1/report", get(report))
        .route("/v1/settlements", get(settlements))
        .with_state(hub)
        .merge(shared))
}

/// The columns `money_facts` has (standard `information_schema`).
const MONEY_COLUMNS: &str = "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
    WHERE table_name = 'money_facts' AND table_schema = current_schema()";

/// Bring an older hub's `money_facts` up to date: add the later columns (under a table
/// lock, so two hubs starting at once do it once) and fill them in from the facts.
async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    let have: Vec<String> = sqlx::query_scalar(MONEY_COLUMNS).fetch_all(pool).await?;
    if LATER_COLUMNS.iter().all(|c| have.iter().any(|h| h == c)) {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    sqlx::query("LOCK TABLE money_facts IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let have: Vec<String> = sqlx::query_scalar(MONEY_COLUMNS)
        .fetch_all(&mut *tx)
        .await?;
    for c in LATER_COLUMNS
        .iter()
        .filter(|c| !have.iter().any(|h| h == *c))
    {
        sqlx::query(&format!(
            "ALTER TABLE money_facts ADD COLUMN {c} TEXT NOT NULL DEFAULT ''"
        ))
        .execute(&mut *tx)
        .await?;
    }
    let rows = sqlx::query(
        "SELECT f.counter_id, f.seq, f.detail FROM facts f JOIN money_facts m
            ON m.counter_id = f.counter_id AND m.seq = f.seq
         WHERE m.kind IN ('settle', 'cancel')",
    )
    .fetch_all(&mut *tx)
    .await?;
    for r in &rows {
        let d: Value = serde_json::from_str(&r.get::<String, _>(2)).unwrap_or(Value::Null);
        sqlx::query(
            "UPDATE money_facts SET msgid = $3, mdtrt_id = $4, psn_no = $5, orig_setl_id = $6, setl_time = $7
              WHERE counter_id = $1 AND seq = $2",
        )
        .bind(r.get::<String, _>(0))
        .bind(r.get::<i64, _>(1))
        .bind(text(&d, "msgid"))
        .bind(text(&d, "mdtrt_id"))
        .bind(text(&d, "psn_no"))
        .bind(text(&d, "orig_setl_id"))
        .bind(text(&d, "setl_time"))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    tracing::info!(
        "money_facts brought up to date ({} settlements)",
        rows.len()
    );
    Ok(())
}

pub async fn serve(listener: tokio::net::TcpListener, opts: HubOptions) -> anyhow::Result<()> {
    let app = router(opts).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

pub(crate) fn refuse(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(json!({"error": code, "message": message.into()})),
    )
        .into_response()
}

pub(crate) fn bearer(h: &HeaderMap) -> &str {
    h.get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

pub(crate) fn db_error(e: sqlx::Error) -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        "database",
        format!("数据库不可用：{e}"),
    )
}

/// The counter a key belongs to (the key names its counter; only its SM3 is kept).
pub(crate) async fn counter_of(pool: &PgPool, h: &HeaderMap) -> Result<String, Response> {
    let key = bearer(h);
    if !key.contains('.') {
        return Err(refuse(StatusCode::UNAUTHORIZED, "no_key", "缺少收费台密钥"));
    }
    match crate::shared::counter_for_key(pool, key).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unknown_counter",
            "未登记的收费台或密钥不对",
        )),
        Err(e) => Err(db_error(e)),
    }
}

#[derive(Deserialize)]
struct EnrollBody {
    counter: String,
}

async fn enroll(State(hub): State<Arc<Hub>>, h: HeaderMap, Json(b): Json<EnrollBody>) -> Response {
    if hub.admin_token.is_empty() || bearer(&h) != hub.admin_token {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "not_admin",
            "登记收费台需要管理员令牌",
        );
    }
    let id = b.counter.trim();
    if id.is_empty()
        || id.len() > 32
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_counter",
            "收费台编号只能是字母、数字、- 和 _（最多 32 位）",
        );
    }
    let mut secret = [0u8; 24];
    rand::Rng::fill(&mut rand::thread_rng(), &mut secret);
    let key = format!("{id}.{}", hex::encode(secret));
    let r = sqlx::query(
        "INSERT INTO counters (counter_id, key_hash, enrolled_at) VALUES ($1, $2, now()) ON CONFLICT (counter_id) DO NOTHING",
    )
    .bind(id)
    .bind(nhsa::sm::sm3_hex(key.as_bytes()))
    .execute(&hub.pool)
    .await;
    match r {
        Ok(x) if x.rows_affected() == 1 => Json(json!({"counter": id, "key": key})).into_response(),
        Ok(_) => refuse(
            StatusCode::CONFLICT,
            "enrolled",
            format!("收费台 {id} 已登记"),
        ),
        Err(e) => db_error(e),
    }
}

async fn high_water_of(pool: &PgPool, counter: &str) -> Result<(i64, String), sqlx::Error> {
    let r =
        sqlx::query("SELECT seq, hash FROM facts WHERE counter_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(counter)
            .fetch_optional(pool)
            .await?;
    Ok(r.map(|r| (r.get(0), r.get(1)))
        .unwrap_or((0, String::new())))
}

async fn high_water(State(hub): State<Arc<Hub>>, h: HeaderMap) -> Response {
    let counter = match counter_of(&hub.pool, &h).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match high_water_of(&hub.pool, &counter).await {
        Ok((seq, _)) => Json(json!({"counter": counter, "high_water": seq})).into_response(),
        Err(e) => db_error(e),
    }
}

#[derive(Deserialize)]
struct PushBody {
    facts: Vec<Fact>,
}

fn fen(v: &Value, k: &str) -> i64 {
    v.get(k)
        .and_then(|x| {
            x.as_str()
                .map(str::to_owned)
                .or_else(|| Some(x.to_string()))
        })
        .and_then(|s| money::Fen::parse(s.trim_matches('"')).ok())
        .map(|f| f.0)
        .unwrap_or(0)
}

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or("").to_string()
}

/// Take a batch of facts in order, in one transaction: each new one must follow the
/// last (seq + 1, prev_hash = its hash); one already held must be the same.
async fn push(State(hub): State<Arc<Hub>>, h: HeaderMap, Json(b): Json<PushBody>) -> Response {
    let counter = match counter_of(&hub.pool, &h).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut tx = match hub.pool.begin().await {
        Ok(t) => t,
        Err(e) => return db_error(e),
    };
    // One push per counter at a time (a resend racing the original waits here).
    if let Err(e) = sqlx::query("SELECT counter_id FROM counters WHERE counter_id = $1 FOR UPDATE")
        .bind(&counter)
        .execute(&mut *tx)
        .await
    {
        return db_error(e);
    }
    let last =
        sqlx::query("SELECT seq, hash FROM facts WHERE counter_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(&counter)
            .fetch_optional(&mut *tx)
            .await;
    let (mut hw, mut last_hash): (i64, String) = match last {
        Ok(r) => r
            .map(|r| (r.get(0), r.get(1)))
            .unwrap_or((0, String::new())),
        Err(e) => return db_error(e),
    };
    for f in &b.facts {
        if f.seq <= hw {
            let held: Result<Option<String>, _> =
                sqlx::query_scalar("SELECT hash FROM facts WHERE counter_id = $1 AND seq = $2")
                    .bind(&counter)
                    .bind(f.seq)
                    .fetch_optional(&mut *tx)
                    .await;
            match held {
                Ok(Some(hash)) if hash == f.hash => continue,
                Ok(_) => {
                    return refuse(
                        StatusCode::CONFLICT,
                        "rewrites_history",
                        format!(
                            "收费台 {counter} 的第 {} 条记录与已收到的不同：拒绝改写历史",
                            f.seq
                        ),
                    )
                }
                Err(e) => return db_error(e),
            }
        }
        if f.seq != hw + 1 || (hw > 0 && f.prev_hash != last_hash) {
            return refuse(
                StatusCode::CONFLICT,
                "broken_chain",
                format!(
                    "收费台 {counter} 的第 {} 条记录接不上第 {hw} 条（缺失或改写）",
                    f.seq
                ),
            );
        }
        let detail = f.detail.to_string();
        let ins = sqlx::query(
            "INSERT INTO facts (counter_id, seq, fact_time, actor, action, detail, prev_hash, hash, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())",
        )
        .bind(&counter)
        .bind(f.seq)
        .bind(&f.time)
        .bind(&f.actor)
        .bind(&f.action)
        .bind(&detail)
        .bind(&f.prev_hash)
        .bind(&f.hash)
        .execute(&mut *tx)
        .await;
        if let Err(e) = ins {
            return db_error(e);
        }
        let d = &f.detail;
        let money = match f.action.as_str() {
            "settlement.settle" | "settlement.cancel" => Some((
                if f.action.ends_with("settle") {
                    "settle"
                } else {
                    "cancel"
                },
                String::new(),
                0,
            )),
            "payment.collect" | "payment.refund" => {
                let ch = text(d, "channel");
                matches!(ch.as_str(), "cash" | "card").then(|| ("payment", ch, fen(d, "amount")))
            }
            _ => None,
        };
        if let Some((kind, channel, amount)) = money {
            // A settlement counts on the center's day (its setl_time, as 3201 counts
            // it); older entries without one, and payments, on the fact's.
            let setl_time = text(d, "setl_time");
            let day = if kind != "payment" && setl_time.len() >= 10 {
                setl_time.get(..10).unwrap_or("")
            } else {
                f.time.get(..10).unwrap_or("")
            };
            let r = sqlx::query(
                "INSERT INTO money_facts (counter_id, seq, day, kind, setl_id, actor, insutype, clr_type, clr_optins,
                    medfee, fund, acct, mulaid, cash, channel, amount, msgid, mdtrt_id, psn_no, orig_setl_id, setl_time)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
            )
            .bind(&counter)
            .bind(f.seq)
            .bind(day)
            .bind(kind)
            .bind(text(d, "setl_id"))
            .bind(&f.actor)
            .bind(text(d, "insutype"))
            .bind(text(d, "clr_type"))
            .bind(text(d, "clr_optins"))
            .bind(fen(d, "medfee_sumamt"))
            .bind(fen(d, "fund_pay_sumamt"))
            .bind(fen(d, "acct_pay"))
            .bind(fen(d, "acct_mulaid_pay"))
            .bind(fen(d, "psn_cash_pay"))
            .bind(channel)
            .bind(amount)
            .bind(text(d, "msgid"))
            .bind(text(d, "mdtrt_id"))
            .bind(text(d, "psn_no"))
            .bind(text(d, "orig_setl_id"))
            .bind(&setl_time)
            .execute(&mut *tx)
            .await;
            if let Err(e) = r {
                return db_error(e);
            }
        }
        hw = f.seq;
        last_hash = f.hash.clone();
    }
    if let Err(e) = tx.commit().await {
        return db_error(e);
    }
    Json(json!({"counter": counter, "high_water": hw})).into_response()
}

#[derive(Deserialize)]
struct ReportQuery {
    date: String,
}

async fn report(
    State(hub): State<Arc<Hub>>,
    h: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Response {
    if bearer(&h) != hub.admin_token {
        if let Err(r) = counter_of(&hub.pool, &h).await {
            return r;
        }
    }
    match crate::report::day(&hub.pool, &q.date).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => db_error(e),
    }
}

/// The institution's settlements of a day (`yibao hub close`): the administrator's only.
async fn settlements(
    State(hub): State<Arc<Hub>>,
    h: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Response {
    if hub.admin_token.is_empty() || bearer(&h) != hub.admin_token {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "not_admin",
            "全院结算明细需要管理员令牌",
        );
    }
    if chrono::NaiveDate::parse_from_str(&q.date, "%Y-%m-%d").is_err() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_date",
            format!("日期 {} 格式应为 2026-11-25", q.date),
        );
    }
    match crate::settlements::of_day(&hub.pool, &q.date).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => db_error(e),
    }
}
